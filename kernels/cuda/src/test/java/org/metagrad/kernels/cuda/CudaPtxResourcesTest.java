package org.metagrad.kernels.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;

/**
 * The committed PTX, without a GPU: every variant the backend can request ({@link PtxVariants#all()}, the list
 * {@link PtxVariants#of} draws from) is a resource on the class path, declares as {@code .visible .entry} every
 * kernel the backend looks up in it ({@link CudaBackend#kernelNames}), targets compute_75 with PTX ISA 8.0, and the generator's
 * manifest lists exactly these variants with the defines {@link PtxVariants} states. (That the PTX is what the
 * sources give and that ptxas assembles it for sm_80 and sm_90 is checked by {@code .ci/run} where nvcc exists.)
 */
class CudaPtxResourcesTest {

  private static String resource(String path) throws IOException {
    try (InputStream in = CudaPtxResourcesTest.class.getResourceAsStream(path)) {
      assertThat(in).as("resource %s", path).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void everyVariantTheBackendRequestsExistsWithEveryKernel() throws IOException {
    List<PtxVariants.Variant> all = PtxVariants.all();
    assertThat(all).hasSize(12); // 5 families x 2 dtypes, and the copy also across dtypes
    Pattern entry = Pattern.compile("\\.visible \\.entry (\\w+)\\(");
    for (PtxVariants.Variant v : all) {
      String ptx = resource(v.resource());
      assertThat(ptx).as(v.fileName()).contains(".version 8.0\n").contains(".target sm_75").contains(".address_size 64");
      Set<String> entries = new LinkedHashSet<>();
      Matcher m = entry.matcher(ptx);
      while (m.find()) {
        entries.add(m.group(1));
      }
      assertThat(entries).as("kernels of %s", v.fileName()).containsAll(CudaBackend.kernelNames(v.family()));
      // The element type really is the variant's: a double variant has f64 loads or stores, a float one f32.
      assertThat(ptx).as(v.fileName()).contains(v.real() == DType.FLOAT64 ? ".f64" : ".f32");
    }
  }

  /**
   * The kernels' parameter lists in the PTX against the argument lists the backend builds (pointers 8 bytes, ints 4,
   * REAL 4 or 8, the by-value structs as many ints as the host packs: {@code Strided.PACKED_INTS} for
   * {@code mg_strided}, 11 for {@code mg_gemm_args}, 19 for {@code mg_window}). The backend checks the same at every
   * launch; here a kernel signature that drifted from the host code fails without a GPU.
   */
  @Test
  void kernelSignaturesMatchTheHostArgumentLists() throws IOException {
    int strided = 4 * org.metagrad.kernels.common.Strided.PACKED_INTS;
    assertThat(strided).isEqualTo(180);
    int ptr = 8;
    int i32 = 4;
    for (PtxVariants.Variant v : PtxVariants.all()) {
      java.util.Map<String, List<Integer>> sigs = PtxSignatures.parse(resource(v.resource()));
      int real = v.real().byteSize();
      for (String k : CudaBackend.kernelNames(v.family())) {
        List<Integer> want;
        if (k.startsWith("mg_unary_")) {
          want = k.endsWith("_c") ? List.of(ptr, ptr, i32, i32, real) : List.of(ptr, ptr, strided, i32, real);
        } else if (k.startsWith("mg_binary_")) {
          want = k.endsWith("_c") ? List.of(ptr, ptr, ptr, i32, i32, i32) : List.of(ptr, ptr, ptr, strided, i32);
        } else {
          want = switch (k) {
            case "mg_where" -> List.of(ptr, ptr, ptr, ptr, strided, i32);
            case "mg_copy" -> List.of(ptr, ptr, strided, i32);
            case "mg_fill" -> List.of(ptr, i32, real);
            case "mg_gemm_tiled", "mg_gemm_cpu" -> List.of(ptr, ptr, ptr, 4 * 11);
            case "mg_unfold", "mg_fold" -> List.of(ptr, ptr, 4 * 19, i32);
            default -> {
              assertThat(k).startsWith("mg_reduce_");
              yield List.of(ptr, ptr, strided, strided, i32, i32);
            }
          };
        }
        assertThat(sigs.get(k)).as("%s in %s", k, v.fileName()).isEqualTo(want);
      }
    }
    // And the host side's sizes for the same kinds of argument.
    assertThat(CudaBackend.argumentBytes(new jcuda.driver.CUdeviceptr(), 3, 2.5f, 2.5, new int[45]))
        .containsExactly(8, 4, 4, 8, 180);
  }

  @Test
  void manifestListsExactlyTheVariantsWithTheirDefines() throws IOException {
    String manifest = resource(PtxVariants.FOLDER + "variants.txt");
    Set<String> lines = manifest.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
        .collect(Collectors.toCollection(LinkedHashSet::new));
    Set<String> want = PtxVariants.all().stream().map(PtxVariants.Variant::manifestLine)
        .collect(Collectors.toCollection(LinkedHashSet::new));
    assertThat(lines).containsExactlyInAnyOrderElementsOf(want);
    assertThat(manifest).contains("(arch compute_75, PTX ISA 8.0)");
  }

  @Test
  void variantsNameTheirFilesAndRejectUnknownRequests() {
    assertThat(PtxVariants.of("elementwise", DType.FLOAT32, DType.FLOAT32).fileName()).isEqualTo("elementwise-f32.ptx");
    assertThat(PtxVariants.of("copy", DType.FLOAT64, DType.FLOAT32).fileName()).isEqualTo("copy-f64-from-f32.ptx");
    assertThat(PtxVariants.of("gemm", DType.FLOAT64, DType.FLOAT64).extraDefines()).isEqualTo("-DMG_TM=64 -DMG_TN=64 -DMG_TK=16 -DMG_WM=4 -DMG_WN=4");
    assertThatThrownBy(() -> PtxVariants.of("conv", DType.FLOAT32, DType.FLOAT32))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown kernel family 'conv'");
    assertThatThrownBy(() -> PtxVariants.of("reduce", DType.FLOAT32, DType.FLOAT64))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reads and writes one dtype");
  }
}
