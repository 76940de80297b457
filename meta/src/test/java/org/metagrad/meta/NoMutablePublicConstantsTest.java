package org.metagrad.meta;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A public static final array is a constant any caller can overwrite ({@code TrainConfig.SPLITS[0] = "x"}).
 * No public type of core, nn or meta may have one: constants that are lists are immutable {@code List}s.
 */
class NoMutablePublicConstantsTest {

  @Test
  void noPublicStaticFinalArrayInTheLibrariesPublicTypes() throws Exception {
    List<String> found = new ArrayList<>();
    int classes = 0;
    for (Class<?> anchor : List.of(org.metagrad.Tensor.class, org.metagrad.nn.Params.class,
        org.metagrad.meta.train.TrainConfig.class)) {
      for (String name : classNames(anchor)) {
        Class<?> c = Class.forName(name, false, anchor.getClassLoader());
        classes++;
        if (!Modifier.isPublic(c.getModifiers())) {
          continue;
        }
        for (Field f : c.getDeclaredFields()) {
          int m = f.getModifiers();
          if (Modifier.isPublic(m) && Modifier.isStatic(m) && f.getType().isArray()) {
            found.add(name + "." + f.getName());
          }
        }
      }
    }
    assertThat(classes).as("classes scanned").isGreaterThan(100);
    assertThat(found).as("public static array fields").isEmpty();
  }

  /** Every class of the jar or class folder that holds {@code anchor}. */
  private static List<String> classNames(Class<?> anchor) throws IOException, URISyntaxException {
    Path where = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> out = new ArrayList<>();
    if (Files.isDirectory(where)) {
      try (Stream<Path> s = Files.walk(where)) {
        s.filter(p -> p.toString().endsWith(".class")).forEach(p -> out.add(toName(where.relativize(p).toString())));
      }
    } else {
      try (JarFile jar = new JarFile(where.toFile())) {
        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
          String n = e.nextElement().getName();
          if (n.endsWith(".class") && !n.endsWith("module-info.class")) {
            out.add(toName(n));
          }
        }
      }
    }
    return out;
  }

  private static String toName(String path) {
    return path.substring(0, path.length() - ".class".length()).replace('/', '.').replace('\\', '.');
  }
}
