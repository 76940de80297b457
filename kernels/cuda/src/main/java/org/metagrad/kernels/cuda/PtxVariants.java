package org.metagrad.kernels.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.metagrad.DType;

/**
 * The PTX variants of the shared kernel sources the CUDA backend loads: one PTX module per kernel family
 * ({@code elementwise}, {@code reduce}, {@code window}, {@code gemm}, {@code copy}) and element type, and for the
 * casting copy one per pair of element types. They are compiled ahead of time by {@code kernels/cuda/gen/build-ptx.sh}
 * (which writes {@code ptx/variants.txt}, the manifest a test compares with {@link #all()}) and shipped as resources
 * under {@value #FOLDER}.
 *
 * <p>The backend finds every module it loads through {@link #of}, and {@link #all()} enumerates exactly the
 * arguments {@link #of} accepts, so a test over {@link #all()} covers whatever the backend can request.
 */
public final class PtxVariants {
  /** Resource folder of the PTX files. */
  public static final String FOLDER = "/org/metagrad/kernels/cuda/ptx/";
  /** The kernel families, as the file names of {@code org/metagrad/kernels/common/*.c}. */
  public static final List<String> FAMILIES = List.of("copy", "elementwise", "gemm", "reduce", "window");
  /** The edge of the tile of C one block of {@code mg_gemm_tiled} computes ({@code MG_TM = MG_TN}). */
  public static final int GEMM_TILE = 64;
  /** The edge of the block of C each GEMM thread keeps in registers ({@code MG_WM = MG_WN}). */
  public static final int GEMM_WORK = 4;
  /** The depth of the slices of A and B staged in shared memory ({@code MG_TK}). */
  public static final int GEMM_DEPTH = 16;
  /** Threads of a GEMM block along each of x and y: {@code GEMM_TILE / GEMM_WORK} (256 threads in all). */
  public static final int GEMM_THREADS = GEMM_TILE / GEMM_WORK;

  /**
   * One compiled variant.
   *
   * @param family the kernel family (source file name without {@code .c})
   * @param real the element type written ({@code REAL})
   * @param src the element type read by the casting copy ({@code SRC}; equal to {@code real} elsewhere)
   * @param extraDefines further preprocessor definitions, space separated ({@code ""} if none)
   */
  public record Variant(String family, DType real, DType src, String extraDefines) {
    /** The PTX file name, e.g. {@code elementwise-f32.ptx} or {@code copy-f64-from-f32.ptx}. */
    public String fileName() {
      return family + "-" + tag(real) + (family.equals("copy") ? "-from-" + tag(src) : "") + ".ptx";
    }

    /** The class-path resource of the PTX. */
    public String resource() {
      return FOLDER + fileName();
    }

    /** The C type names and defines as the generator's manifest records them (REAL, SRC, extra). */
    public String manifestLine() {
      return fileName() + "\t" + family + "\t" + cType(real) + "\t" + cType(src) + "\t" + extraDefines;
    }
  }

  private PtxVariants() {}

  /**
   * The variant holding the kernels of {@code family} for element type {@code real} reading {@code src}.
   *
   * @throws IllegalArgumentException for an unknown family, or a source type differing from {@code real}
   *     outside the casting copy
   */
  public static Variant of(String family, DType real, DType src) {
    if (!FAMILIES.contains(family)) {
      throw new IllegalArgumentException("cuda: unknown kernel family '" + family + "' (known: " + FAMILIES + ")");
    }
    if (real != src && !family.equals("copy")) {
      throw new IllegalArgumentException("cuda: kernel family " + family + " reads and writes one dtype, got "
          + src + " to " + real);
    }
    String extra = family.equals("gemm") ? "-DMG_TM=" + GEMM_TILE + " -DMG_TN=" + GEMM_TILE + " -DMG_TK=" + GEMM_DEPTH
        + " -DMG_WM=" + GEMM_WORK + " -DMG_WN=" + GEMM_WORK : "";
    return new Variant(family, real, src, extra);
  }

  /** Every variant {@link #of} can return, in a fixed order. */
  public static List<Variant> all() {
    List<Variant> out = new ArrayList<>();
    for (String family : FAMILIES) {
      for (DType real : DType.values()) {
        for (DType src : DType.values()) {
          if (src == real || family.equals("copy")) {
            out.add(of(family, real, src));
          }
        }
      }
    }
    return out;
  }

  private static String tag(DType t) {
    return t.name().toLowerCase(Locale.ROOT).replace("float", "f");
  }

  private static String cType(DType t) {
    return t == DType.FLOAT64 ? "double" : "float";
  }
}
