package org.metagrad.meta.determinism;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No main source of any module calls {@code Math}'s transcendental functions (issue 28). The JLS lets
 * {@code Math.exp}, {@code log}, {@code pow}, {@code sin}... differ by an ulp between implementations, and
 * HotSpot's intrinsics may differ from its interpreter, so a run could change its bits with the JIT's
 * state; {@code StrictMath} is bit-defined (fdlibm). {@code Math.sqrt}, {@code abs}, {@code fma},
 * {@code floor}, {@code min}, {@code max}... are exact and allowed.
 */
class StrictMathOnlyTest {

  /** {@code Math.f(} for a transcendental f, not preceded by a letter (so not {@code StrictMath.f(}). */
  private static final Pattern CALL = Pattern.compile(
      "(?<![\\w$])Math\\s*\\.\\s*(exp|expm1|log|log10|log1p|pow|sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|tanh|cbrt"
          + "|hypot)\\s*\\(");
  /** A static import of Math's transcendental functions (or all of Math), which would hide the calls. */
  private static final Pattern STATIC_IMPORT = Pattern.compile(
      "import\\s+static\\s+java\\.lang\\.Math\\.(\\*|exp|expm1|log|log10|log1p|pow|sin|cos|tan|asin|acos|atan"
          + "|atan2|sinh|cosh|tanh|cbrt|hypot)\\s*;");

  /** The repository root: the first folder upwards from the working directory (Maven: the module's) with core/. */
  static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("pom.xml")) && Files.isDirectory(d.resolve("core/src/main/java"))) {
        return d;
      }
    }
    throw new IllegalStateException("no repository root (a folder with pom.xml and core/src/main/java) above " + dir);
  }

  /** Every module's {@code src/main/java}, found by walking the repository (build output and .git skipped). */
  static List<Path> mainSourceRoots(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isDirectory)
          .filter(p -> p.endsWith(Path.of("src", "main", "java")))
          .filter(p -> !root.relativize(p).toString().contains("target") && !root.relativize(p).startsWith(".git"))
          .sorted().collect(Collectors.toList());
    }
  }

  /** {@code file:line: text} for each offending line of the Java files under {@code dir}. */
  static List<String> offences(Path root, Path dir) throws IOException {
    List<String> out = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(p -> p.toString().endsWith(".java")).sorted().collect(Collectors.toList());
    }
    for (Path f : files) {
      List<String> lines = Files.readAllLines(f);
      for (int i = 0; i < lines.size(); i++) {
        String code = codeOf(lines.get(i));
        Matcher m = CALL.matcher(code);
        if (m.find() || STATIC_IMPORT.matcher(code).find()) {
          out.add(root.relativize(f).toString().replace('\\', '/') + ":" + (i + 1) + ": " + lines.get(i).trim());
        }
      }
    }
    return out;
  }

  /** The line without its // comment, and empty for Javadoc and block-comment lines. */
  private static String codeOf(String line) {
    String t = line.trim();
    if (t.startsWith("*") || t.startsWith("/*")) {
      return "";
    }
    int c = line.indexOf("//");
    return c >= 0 ? line.substring(0, c) : line;
  }

  @Test
  void mainSourcesUseStrictMathForTranscendentalFunctions() throws IOException {
    Path root = repositoryRoot();
    List<Path> dirs = mainSourceRoots(root);
    // core, nn, meta, bench and both kernel modules at least: a wrong root would find nothing and pass.
    assertThat(dirs.stream().map(d -> root.relativize(d).toString().replace('\\', '/')))
        .contains("core/src/main/java", "nn/src/main/java", "meta/src/main/java", "kernels/cpu/src/main/java",
            "kernels/opencl/src/main/java", "bench/src/main/java");
    List<String> found = new ArrayList<>();
    for (Path d : dirs) {
      found.addAll(offences(root, d));
    }
    assertThat(found).as("Math.<transcendental>( in main code; use StrictMath (same bits on every JVM and JIT tier)")
        .isEmpty();
  }

  @Test
  void theScanFindsWhatItLooksFor(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("src/main/java/A.java");
    Files.createDirectories(f.getParent());
    Files.write(f, List.of("class A {", "  double a = Math.exp(1);", "  double b = StrictMath.exp(1);",
        "  // Math.log(2) in a comment", "  double c = java.lang.Math.pow(2, 3) + Math.sqrt(2);",
        "  double d = Math .tanh (1);", "}"));
    assertThat(offences(tmp, tmp.resolve("src/main/java"))).containsExactly(
        "src/main/java/A.java:2: double a = Math.exp(1);",
        "src/main/java/A.java:5: double c = java.lang.Math.pow(2, 3) + Math.sqrt(2);",
        "src/main/java/A.java:6: double d = Math .tanh (1);");
  }
}
