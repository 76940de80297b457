package org.metagrad.kernels.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.UnaryOp;

/**
 * Every unary, binary and reduce op of the SPI has its OpenCL kernels (the name {@link OpenClBackend} asks for, and
 * the contiguous {@code _c} variant of the elementwise ones) in the kernel sources on the class path. Reads the C
 * sources only, so it runs without an OpenCL device: adding an op constant without its kernel fails here, not on
 * the first GPU run. ({@code OpenClLocaleTest} then runs each one on the device.)
 */
class OpenClKernelCoverageTest {

  /**
   * The kernel names a source declares: plain {@code KERNEL void name(} definitions, and those of its macros
   * ({@code #define MG_X(name, ...)} whose body declares {@code KERNEL void prefix##name##suffix(}) expanded at each
   * invocation {@code MG_X(arg, ...)}.
   */
  static Set<String> declaredKernels(String source) {
    Set<String> out = new TreeSet<>();
    String joined = source.replace("\\\n", " ");
    Matcher plain = Pattern.compile("KERNEL\\s+void\\s+(\\w+)\\s*\\(").matcher(joined);
    while (plain.find()) {
      out.add(plain.group(1));
    }
    Matcher def = Pattern.compile("(?m)^#define\\s+(\\w+)\\(name\\b[^)]*\\)(.*)$").matcher(joined);
    while (def.find()) {
      String macro = def.group(1);
      List<String[]> templates = new ArrayList<>();
      Matcher k = Pattern.compile("KERNEL\\s+void\\s+(\\w*)##name((?:##\\w+)?)\\s*\\(").matcher(def.group(2));
      while (k.find()) {
        templates.add(new String[] {k.group(1), k.group(2).replace("##", "")});
      }
      Matcher use = Pattern.compile("(?m)^" + macro + "\\((\\w+)\\s*,").matcher(joined);
      while (use.find()) {
        for (String[] t : templates) {
          out.add(t[0] + use.group(1) + t[1]);
        }
      }
    }
    return out;
  }

  @Test
  void everyOpHasItsKernelsInTheSources() {
    Set<String> elementwise = declaredKernels(ProgramCache.resource(ProgramCache.COMMON + "elementwise.c"));
    Set<String> reduce = declaredKernels(ProgramCache.resource(ProgramCache.COMMON + "reduce.c"));
    for (UnaryOp op : UnaryOp.values()) {
      assertThat(elementwise).as("elementwise.c kernels for " + op)
          .contains(OpenClBackend.unaryKernel(op), OpenClBackend.unaryKernel(op) + "_c");
    }
    for (BinaryOp op : BinaryOp.values()) {
      assertThat(elementwise).as("elementwise.c kernels for " + op)
          .contains(OpenClBackend.binaryKernel(op), OpenClBackend.binaryKernel(op) + "_c");
    }
    for (ReduceOp op : ReduceOp.values()) {
      assertThat(reduce).as("reduce.c kernels for " + op)
          .contains(OpenClBackend.reduceKernel(op, true), OpenClBackend.reduceKernel(op, false));
    }
  }

  @Test
  void theScanFindsMacroAndPlainKernelsAndNothingElse() {
    String src = "#define MG_U(name, expr) \\\n  KERNEL void mg_u_##name(int n) { } \\\n"
        + "  KERNEL void mg_u_##name##_c(int n) { }\nMG_U(neg, -x)\nMG_U(exp, exp(x))\n"
        + "KERNEL void mg_where(int n) { }\n// MG_U(sin, sin(x)) commented out\n";
    assertThat(declaredKernels(src)).containsExactly("mg_u_exp", "mg_u_exp_c", "mg_u_neg", "mg_u_neg_c", "mg_where");
  }
}
