package org.metagrad.nn.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interoperability with PyTorch. {@code safetensors/torch_fixture.safetensors} (module test-data)
 * was written by {@code make_fixture.py} from a seeded PyTorch state dict, by hand with struct and
 * json, independently of this reader; its sidecar {@code torch_fixture.expected.json} holds every
 * element's bit pattern. The reverse direction writes {@code target/safetensors-interop/
 * java_written.safetensors}, which {@code verify_java_file.py} checks from Python (optional; this
 * test never needs Python).
 */
class SafeTensorsTorchInteropTest {
  @TempDir Path dir;

  private static final String RESOURCE = "/safetensors/torch_fixture.safetensors";
  private static final String EXPECTED = "/safetensors/torch_fixture.expected.json";

  private Path fixture() throws IOException {
    Path p = dir.resolve("torch_fixture.safetensors");
    try (InputStream in = SafeTensorsTorchInteropTest.class.getResourceAsStream(RESOURCE)) {
      assertThat(in).as("classpath resource %s (module metagrad-test-data)", RESOURCE).isNotNull();
      Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
    }
    return p;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> expected() throws IOException {
    try (InputStream in = SafeTensorsTorchInteropTest.class.getResourceAsStream(EXPECTED)) {
      assertThat(in).isNotNull();
      String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return (Map<String, Object>) StrictJson.parse(json, EXPECTED);
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void readsPyTorchStateDictBitExactly() throws IOException {
    Checkpoint c = SafeTensors.read(fixture());
    Map<String, Object> expected = expected();

    assertThat(c.names()).isEqualTo(expected.get("header_order"));
    assertThat(c.metadata()).isEqualTo(expected.get("metadata"));
    assertThat(c.metadata()).containsEntry("format", "pt");

    Map<String, Object> tensors = (Map<String, Object>) expected.get("tensors");
    assertThat(c.size()).isEqualTo(tensors.size()).isEqualTo(10);
    for (Map.Entry<String, Object> e : tensors.entrySet()) {
      String name = e.getKey();
      Map<String, Object> want = (Map<String, Object>) e.getValue();
      NamedArray got = c.get(name);
      assertThat(got.dtype().name()).as(name).isEqualTo(want.get("dtype"));
      List<Long> shape = (List<Long>) want.get("shape");
      assertThat(got.shape()).as(name).containsExactly(shape.stream().mapToLong(Long::longValue).toArray());
      List<Object> bits = (List<Object>) want.get("bits");
      assertThat(got.numel()).as(name).isEqualTo(bits.size());
      double finiteSum = 0;
      long intSum = 0;
      for (int i = 0; i < bits.size(); i++) {
        switch (got.dtype()) {
          case F32 -> {
            float v = got.data().getFloat(4 * i);
            assertThat(Integer.toUnsignedLong(Float.floatToRawIntBits(v)))
                .as("%s[%d]", name, i)
                .isEqualTo(bits.get(i));
            finiteSum += Float.isFinite(v) ? v : 0;
          }
          case F64 -> {
            double v = got.data().getDouble(8 * i);
            assertThat(Long.toUnsignedString(Double.doubleToRawLongBits(v)))
                .as("%s[%d]", name, i)
                .isEqualTo(bits.get(i));
            finiteSum += Double.isFinite(v) ? v : 0;
          }
          case I32 -> {
            int v = got.data().getInt(4 * i);
            assertThat(Integer.toUnsignedLong(v)).as("%s[%d]", name, i).isEqualTo(bits.get(i));
            intSum += v;
          }
          case I64 -> {
            long v = got.data().getLong(8 * i);
            assertThat(Long.toUnsignedString(v)).as("%s[%d]", name, i).isEqualTo(bits.get(i));
            intSum += v;
          }
        }
      }
      Object sum = want.get("finite_sum");
      if (got.dtype() == SafeDType.F32 || got.dtype() == SafeDType.F64) {
        double wantSum = sum instanceof Long l ? l : Double.parseDouble(sum.toString());
        assertThat(finiteSum).as("%s finite sum", name).isCloseTo(wantSum, org.assertj.core.data.Offset.offset(1e-9));
      } else {
        assertThat(intSum).as("%s sum", name).isEqualTo(sum);
      }
    }
    // A few values through the typed accessors, as a user would read them.
    assertThat(c.get("conv.weight").shape()).containsExactly(4, 1, 3, 3);
    assertThat(c.get("fc.bias").toDoubles()).hasSize(5);
    assertThat(c.get("temperature").toFloats()).containsExactly(0.125f);
    assertThat(c.get("step").toLongs()).containsExactly(1234567890123L);
    assertThat(c.get("counts").toInts()).containsExactly(-1, 0, 7, Integer.MAX_VALUE);
    assertThat(c.get("empty").shape()).containsExactly(0, 3);
    float[] special = c.get("special").toFloats();
    assertThat(Float.floatToRawIntBits(special[0])).isEqualTo(0x80000000); // -0.0
    assertThat(special[1]).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(special[2]).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(Float.floatToRawIntBits(special[3])).isEqualTo(0x7fc01234); // NaN payload kept
  }

  @Test
  void rewritingThePyTorchFileKeepsEveryTensorAndTheMetadata() throws IOException {
    Checkpoint original = SafeTensors.read(fixture());
    Path copy = dir.resolve("rewritten.safetensors");
    SafeTensors.write(copy, original);
    assertThat(SafeTensors.read(copy)).isEqualTo(original);
  }

  /**
   * Writes the file that {@code verify_java_file.py} checks; the values follow formulas that the
   * script recomputes.
   */
  @Test
  void writesInteropFileForPython() throws IOException {
    float[] a = new float[6];
    for (int i = 0; i < a.length; i++) {
      a[i] = i * 0.25f - 0.5f;
    }
    double[] b = new double[6];
    for (int i = 0; i < b.length; i++) {
      b[i] = Math.sqrt(i + 1) * (i % 2 == 0 ? 1 : -1);
    }
    List<NamedArray> tensors =
        List.of(
            NamedArray.fromFloats("a", new long[] {2, 3}, a),
            NamedArray.fromDoubles("b", new long[] {3, 1, 2}, b),
            NamedArray.fromDoubles("neg_zero", new long[] {}, -0.0),
            NamedArray.fromFloats(
                "special", new long[] {3},
                Float.intBitsToFloat(0x7fc0beef), Float.NEGATIVE_INFINITY, Float.MIN_VALUE),
            NamedArray.fromFloats("empty", new long[] {0}),
            NamedArray.fromLongs("step", new long[] {}, 42L),
            NamedArray.fromInts("idx", new long[] {3}, -7, 0, Integer.MAX_VALUE),
            NamedArray.fromFloats("naïve ✓", new long[] {1}, 1f));
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("producer", "metagrad");
    metadata.put("epoch", "3");
    metadata.put("quote\"key", "line\nbreak");
    Path out = Path.of("target", "safetensors-interop", "java_written.safetensors");
    Files.createDirectories(out.getParent());
    SafeTensors.write(out, tensors, metadata);
    Checkpoint back = SafeTensors.read(out);
    assertThat(back.tensors()).isEqualTo(tensors);
    assertThat(back.metadata()).containsExactlyEntriesOf(metadata);
    verifyWithPythonIfPresent(out);
  }

  /**
   * Runs {@code verify_java_file.py} on the file when a Python 3 is installed at {@value #PYTHON}
   * (its by-hand check needs only the standard library; it adds PyTorch's check when torch is
   * importable). Without Python this step is skipped and the test still passes on the Java checks.
   */
  private void verifyWithPythonIfPresent(Path file) throws IOException {
    if (!Files.isExecutable(Path.of(PYTHON))) {
      return;
    }
    Path script = dir.resolve("verify_java_file.py");
    try (InputStream in = getClass().getResourceAsStream("/safetensors/verify_java_file.py")) {
      assertThat(in).isNotNull();
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    Process p =
        new ProcessBuilder(PYTHON, script.toString(), file.toAbsolutePath().toString())
            .redirectErrorStream(true)
            .start();
    String output;
    try {
      output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("verify_java_file.py did not finish in 120 s:\n" + output);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
    assertThat(p.exitValue()).as("verify_java_file.py output:%n%s", output).isZero();
    assertThat(output).contains("all checks passed");
  }

  private static final String PYTHON = "/usr/bin/python3";
}
