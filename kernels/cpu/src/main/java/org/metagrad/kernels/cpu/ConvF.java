package org.metagrad.kernels.cpu;

import java.util.Arrays;
import org.metagrad.spi.ConvGeometry;

/**
 * Float convolution kernels that never hold the unfolded {@code [n, c*kh*kw, oh*ow]} matrix (implicit
 * im2col). Where the row stride is 1 ({@link Planes}: conv4's every layer) and the kernel set reads rows in
 * place (the vector sets, {@link ScalarKernels#inPlaceRowsF}), each image's input is laid out
 * once as {@code kw} shifted, zero-bordered copies in a per-thread buffer, in which every unfolded row is a
 * contiguous run that the micro-kernels read in place: the forward {@code W . unfold(x)} with B's rows in
 * place ({@link GemmF#sharedARows}; the AVX2 set reads W's rows in place too), the weight gradient as
 * {@code dw^T = sum_p unfold(x[p]) . gy[p]^T} with A's rows in place ({@link GemmF#gemmSumBatchRowsA}), and,
 * at stride 1, the input gradient as the forward convolution of gy with the flipped weight
 * ({@link #transposed}). Otherwise the forward packs its kc x NR panels of B straight from x (masked loads or
 * gathers, {@link Taps}); the weight gradient does the same for its transposed B (a gather per panel row);
 * the input gradient forms one image's {@code W^T . gy[p]} columns in a per-thread buffer that stays in L2
 * and folds them into the image at once. The composite (unfold, matmul, fold: 45 MB of
 * columns written and read again per direction for conv4's second layer on 100 images) is what the
 * default kernels of {@link org.metagrad.spi.Backend} run and what the tests compare these with.
 *
 * <p>Determinism: the products are {@link GemmF}'s (each output summed in one fixed order); each image's
 * input gradient is folded by one thread in a fixed order. So the bits do not depend on the thread count.
 */
final class ConvF {
  private ConvF() {}

  /**
   * Where each depth row (tap) and each output pixel reads x: element (tap k, pixel p) of the unfolded
   * matrix is {@code x[base + pixOff[p] + tapOff[k]]} when {@code 0 <= pixH[p] + tapH[k] < h} and
   * {@code 0 <= pixW[p] + tapW[k] < w}, else 0 (padding).
   */
  static final class Taps {
    final ConvGeometry g;
    final int[] tapOff;
    final int[] tapH;
    final int[] tapW;
    final int[] pixOff;
    final int[] pixH;
    final int[] pixW;
    /** Pixels all of whose taps are inside the image. */
    final boolean[] interior;
    /** Per tap position {@code ki*kw + kj}, per pixel: whether the tap is inside the image. */
    final boolean[] pixValid;
    /** For each depth row k, its tap position {@code ki*kw + kj}. */
    final int[] tapPos;
    /** Per tap position and pixel: pixOff, or where invalid an offset that reads the channel's first element. */
    final int[] pixSafe;
    /** Filled on demand: per pixel, per depth row, whether the tap is inside the image. */
    private boolean[] tapValid;
    /**
     * Filled with tapValid, and written after it: per pixel, per depth row, tapOff or a safe offset where
     * invalid. Volatile, so that a thread that reads it non-null also sees tapValid (the tables are shared
     * between calls and threads, see {@link ConvF#taps}).
     */
    private volatile int[] tapSafe;
    private final int sC;
    /**
     * Whether consecutive output pixels read consecutive elements of x ({@code pixOff[q + 1] = pixOff[q] + 1}:
     * stride 1 along both axes, unit column stride and an output as wide as the input's rows, as for a
     * "same" convolution): then a panel row is one contiguous masked load instead of a gather.
     */
    final boolean unitPixels;

    Taps(ConvGeometry g, int sC, int sH, int sW) {
      this.g = g;
      int kk = g.rows();
      tapOff = new int[kk];
      tapH = new int[kk];
      tapW = new int[kk];
      for (int ci = 0, r = 0; ci < g.c(); ci++) {
        for (int ki = 0; ki < g.kh(); ki++) {
          for (int kj = 0; kj < g.kw(); kj++, r++) {
            tapH[r] = ki * g.dh();
            tapW[r] = kj * g.dw();
            tapOff[r] = ci * sC + tapH[r] * sH + tapW[r] * sW;
          }
        }
      }
      int p = g.cols();
      pixOff = new int[p];
      pixH = new int[p];
      pixW = new int[p];
      interior = new boolean[p];
      int spanH = (g.kh() - 1) * g.dh();
      int spanW = (g.kw() - 1) * g.dw();
      for (int oi = 0, q = 0; oi < g.oh(); oi++) {
        for (int oj = 0; oj < g.ow(); oj++, q++) {
          pixH[q] = oi * g.sh() - g.ph();
          pixW[q] = oj * g.sw() - g.pw();
          pixOff[q] = pixH[q] * sH + pixW[q] * sW;
          interior[q] = pixH[q] >= 0 && pixH[q] + spanH < g.h() && pixW[q] >= 0 && pixW[q] + spanW < g.w();
        }
      }
      int positions = g.kh() * g.kw();
      tapPos = new int[kk];
      for (int r = 0; r < kk; r++) {
        tapPos[r] = r % positions;
      }
      pixValid = new boolean[positions * p];
      pixSafe = new int[positions * p];
      for (int t = 0; t < positions; t++) {
        int th = tapH[t];
        int tw = tapW[t];
        for (int q = 0; q < p; q++) {
          int ii = pixH[q] + th;
          int jj = pixW[q] + tw;
          boolean ok = ii >= 0 && ii < g.h() && jj >= 0 && jj < g.w();
          pixValid[t * p + q] = ok;
          // tapOff of channel ci at position t is ci*sC + th*sH + tw*sW: this offset reads x[.., ci, 0, 0].
          pixSafe[t * p + q] = ok ? pixOff[q] : -(th * sH + tw * sW);
        }
      }
      this.sC = sC;
      boolean unit = true;
      for (int q = 1; q < p && unit; q++) {
        unit = pixOff[q] == pixOff[q - 1] + 1;
      }
      unitPixels = unit;
    }

    /** Per pixel, per depth row: {@link #pixValid} transposed and repeated over the channels. */
    private synchronized void fillTapTables() {
      if (tapSafe == null) {
        int kk = g.rows();
        int p = g.cols();
        int positions = g.kh() * g.kw();
        boolean[] v = new boolean[p * kk];
        int[] off = new int[p * kk];
        for (int q = 0; q < p; q++) {
          for (int r = 0; r < kk; r++) {
            boolean ok = pixValid[tapPos[r] * p + q];
            v[q * kk + r] = ok;
            off[q * kk + r] = ok ? tapOff[r] : (r / positions) * sC - pixOff[q];
          }
        }
        tapValid = v;
        tapSafe = off; // the volatile write last: it publishes tapValid
      }
    }

    /**
     * Row {@code k} of the unfolded matrix, pixels {@code [p0, p0 + len)}: one masked contiguous load when
     * {@link #unitPixels}, else one masked gather.
     */
    void rowGather(ScalarKernels k, float[] x, int base, int r, int p0, int len, float[] dst, int d) {
      int t = tapPos[r] * g.cols() + p0;
      if (unitPixels) {
        k.loadMaskedF(x, base + tapOff[r] + pixOff[p0], pixValid, t, dst, d, len);
      } else {
        k.gatherMaskedF(x, base + tapOff[r], pixSafe, t, pixValid, t, dst, d, len);
      }
    }

    /**
     * Pixel {@code p}'s values of taps {@code [k0, k0 + n)} (a row of the transposed unfolded matrix)
     * into {@code dst[d ..]}: one gather for an interior pixel, a checked loop at the border.
     */
    void column(ScalarKernels k, float[] x, int base, int p, int k0, int n, float[] dst, int d) {
      int at = base + pixOff[p];
      if (interior[p]) {
        k.gatherF(x, at, tapOff, k0, dst, d, n);
      } else {
        int[] safe = tapSafe;
        if (safe == null) {
          fillTapTables();
          safe = tapSafe;
        }
        int o = p * g.rows() + k0;
        k.gatherMaskedF(x, at, safe, o, tapValid, o, dst, d, n);
      }
    }
  }

  /**
   * One image's input as {@code kw} shifted copies, so that every row of its unfolded matrix is a contiguous
   * run that the GEMM micro-kernels read in place ({@link GemmF#sharedARows}): no packing, no masks. For
   * row stride 1 ({@code sh = 1}), copy kj holds, per channel, a plane of {@code hr = oh + (kh-1)*dh} rows of
   * {@code ow} values, {@code plane[ci][r][oj] = x[ci, r - ph, oj*sw - pw + kj*dw]} (0 outside the image).
   * Then unfolded row {@code (ci, ki, kj)} at pixel {@code p = oi*ow + oj} is
   * {@code plane_kj[ci][(oi + ki*dh)*ow + oj]}, i.e. offset {@code rowOff[r] + p}. For conv4's second layer
   * the copies are 43K floats per image (172 KB, in L2) where the unfolded matrix is 113K; JFR of the packed
   * forward on an AVX2 kernel set put 30% of its samples in the masked loads that packed those rows.
   */
  static final class Planes {
    /** Largest per-thread buffer (floats) built; larger inputs use the packed path. */
    static final long LIMIT = 1L << 19;
    final ConvGeometry g;
    final int hr;
    final int plane;
    final int[] rowOff;
    final int floats;

    Planes(ConvGeometry g) {
      this.g = g;
      hr = g.oh() + (g.kh() - 1) * g.dh();
      plane = hr * g.ow();
      floats = g.kw() * g.c() * plane;
      rowOff = new int[g.rows()];
      for (int ci = 0, r = 0; ci < g.c(); ci++) {
        for (int ki = 0; ki < g.kh(); ki++) {
          for (int kj = 0; kj < g.kw(); kj++, r++) {
            rowOff[r] = (kj * g.c() + ci) * plane + ki * g.dh() * g.ow();
          }
        }
      }
    }

    /** Whether the copies exist for this geometry (row stride 1) and stay within {@link #LIMIT}. */
    static boolean apply(ConvGeometry g) {
      return g.sh() == 1 && (long) g.kw() * g.c() * (g.oh() + (long) (g.kh() - 1) * g.dh()) * g.ow() <= LIMIT;
    }

    /**
     * Fills the copies of channels {@code [ciLo, ciHi)} of image {@code img} (x by offset and (n, c, h, w)
     * strides) into buf.
     */
    void fill(float[] x, int xOff, int[] xs, int img, int ciLo, int ciHi, float[] buf) {
      int xb = xOff + img * xs[0];
      int ow = g.ow();
      int sw = g.sw();
      for (int kj = 0; kj < g.kw(); kj++) {
        int ojLo = firstValid(g.pw(), kj * g.dw(), sw);
        int ojHi = endValid(g.w(), g.pw(), kj * g.dw(), sw, ow, ojLo);
        int jj0 = ojLo * sw - g.pw() + kj * g.dw();
        for (int ci = ciLo; ci < ciHi; ci++) {
          int d0 = (kj * g.c() + ci) * plane;
          int src0 = xb + ci * xs[1] + jj0 * xs[3];
          for (int r = 0; r < hr; r++) {
            int ii = r - g.ph();
            int d = d0 + r * ow;
            if (ii < 0 || ii >= g.h() || ojHi == ojLo) {
              Arrays.fill(buf, d, d + ow, 0f);
              continue;
            }
            Arrays.fill(buf, d, d + ojLo, 0f);
            int src = src0 + ii * xs[2];
            if (sw == 1 && xs[3] == 1) {
              System.arraycopy(x, src, buf, d + ojLo, ojHi - ojLo);
            } else {
              for (int oj = ojLo, e = src; oj < ojHi; oj++, e += sw * xs[3]) {
                buf[d + oj] = x[e];
              }
            }
            Arrays.fill(buf, d + ojHi, d + ow, 0f);
          }
        }
      }
    }

    /**
     * The unfolded rows of x's images, in per-thread buffers with {@code slack} readable values past the end,
     * and {@code offsets} (rowOff, or rowOff with entries past the last row) for the GEMM that reads them.
     */
    GemmF.RowSource source(float[] x, int xOff, int[] xs, int slack, int[] offsets) {
      int size = floats + slack;
      int taps = g.kh() * g.kw();
      return new GemmF.RowSource() {
        @Override
        public int[] rowOff() {
          return offsets;
        }

        @Override
        public float[] rows(int img, int rowLo, int rowHi) {
          float[][] holder = PLANE_BUFFERS.get();
          if (holder[0].length < size) {
            holder[0] = new float[size];
          }
          fill(x, xOff, xs, img, rowLo / taps, (rowHi + taps - 1) / taps, holder[0]);
          return holder[0];
        }
      };
    }

    /** rowOff extended to {@code rows} entries, the extra ones 0 (for the rows of an edge panel past the last). */
    int[] rowOffPadded(int rows) {
      return rows <= rowOff.length ? rowOff : Arrays.copyOf(rowOff, rows);
    }
  }

  private static final ThreadLocal<float[][]> PLANE_BUFFERS = ThreadLocal.withInitial(() -> new float[1][0]);

  private record TapsKey(ConvGeometry g, int sC, int sH, int sW) {}

  /** Tables of at most this many entries (per pixel, per depth row) are kept for the next call. */
  private static final long CACHED_TABLE_LIMIT = 1L << 20;
  private static final int CACHE_ENTRIES = 32;
  private static final java.util.concurrent.ConcurrentHashMap<TapsKey, Taps> TAPS = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The tap tables of a geometry and input layout, shared between calls (they do not depend on the batch size):
   * a training step runs the same few convolutions every time, and rebuilding the weight gradient's per-pixel
   * tables (113K entries for conv4's second layer) took about a tenth of that kernel's time (JFR, first-order
   * MAML: 32 of about 350 samples). Tables larger
   * than {@link #CACHED_TABLE_LIMIT} are built per call; the cache is emptied when it holds {@link #CACHE_ENTRIES}.
   */
  static Taps taps(ConvGeometry g, int sC, int sH, int sW) {
    if ((long) g.rows() * g.cols() > CACHED_TABLE_LIMIT) {
      return new Taps(g, sC, sH, sW);
    }
    ConvGeometry one = new ConvGeometry(1, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(),
        g.dh(), g.dw());
    TapsKey key = new TapsKey(one, sC, sH, sW);
    Taps t = TAPS.get(key);
    if (t == null) {
      if (TAPS.size() >= CACHE_ENTRIES) {
        TAPS.clear();
      }
      t = TAPS.computeIfAbsent(key, k -> new Taps(k.g(), k.sC(), k.sH(), k.sW()));
    }
    return t;
  }

  /** First output index whose input index {@code o*stride - pad + shift} is >= 0. */
  static int firstValid(int pad, int shift, int stride) {
    int need = pad - shift;
    return need <= 0 ? 0 : (need + stride - 1) / stride;
  }

  /** One past the last output index whose input index is < size, clamped to [lo, outSize]. */
  static int endValid(int size, int pad, int shift, int stride, int outSize, int lo) {
    int last = size - 1 + pad - shift;
    int hi = last < 0 ? 0 : last / stride + 1;
    return Math.max(lo, Math.min(outSize, hi));
  }

  /**
   * Whether {@link #forward} applies: the product is large enough for packing and the weight small
   * enough for {@link GemmF#sharedA} to pack it whole (otherwise the backend runs the composite kernels).
   */
  static boolean forwardApplies(ConvGeometry g, int out) {
    long k = g.rows();
    return out >= 2 && (long) out * g.cols() * k > GemmF.DIRECT_LIMIT && out * k <= (1L << 20);
  }

  /** Whether {@link #backwardWeight} applies: more taps than the dot-product path of GemmF handles best. */
  static boolean backwardWeightApplies(ConvGeometry g, int out) {
    return g.rows() > GemmF.DOT_MAX_N && out >= 1 && g.cols() >= 1;
  }

  /**
   * {@code y [n, o, oh*ow] = w [o, c*kh*kw] . unfold(x) + bias}; x by offset and (n, c, h, w) strides,
   * w by offset and (row, column) strides, bias by offset and stride or null.
   */
  static float[] forward(ScalarKernels k, int threads, float[] x, int xOff, int[] xs, float[] w, int wOff, int wRs,
      int wCs, float[] bias, int bOff, int bS, ConvGeometry g, int o) {
    int n = g.n();
    int p = g.cols();
    int kk = g.rows();
    float[] y = new float[n * o * p];
    if (bias != null) {
      for (int img = 0; img < n; img++) {
        for (int oc = 0; oc < o; oc++) {
          Arrays.fill(y, (img * o + oc) * p, (img * o + oc + 1) * p, bias[bOff + oc * bS]);
        }
      }
    }
    int nr = k.nrF();
    int th = (long) n * o * p * kk < GemmF.PARALLEL_LIMIT ? 1 : threads;
    if (planesForward(k, g)) {
      Planes planes = new Planes(g);
      GemmF.sharedARows(k, th, w, wOff, wRs, wCs, planes.source(x, xOff, xs, nr, planes.rowOff), y, n, o, p, kk);
      return y;
    }
    Taps taps = taps(g, xs[1], xs[2], xs[3]);
    GemmF.GroupPacker packer = (t0, t1, nPanels, pc, kc, pb) -> {
      for (int q = 0; q < kc; q++) {
        for (int t = t0; t < t1; t++) {
          int j0 = (t % nPanels) * nr;
          int nv = Math.min(nr, p - j0);
          int dst = ((t - t0) * kc + q) * nr;
          taps.rowGather(k, x, xOff + (t / nPanels) * xs[0], pc + q, j0, nv, pb, dst);
          Arrays.fill(pb, dst + nv, dst + nr, 0f);
        }
      }
    };
    GemmF.sharedA(k, th, w, wOff, wRs, wCs, packer, y, n, o, p, kk);
    return y;
  }

  /**
   * {@code dw [o, c*kh*kw] = sum_p gy[p] . unfold(x[p])^T}; gy {@code [n, o, oh*ow]} and x by offset and
   * strides.
   */
  static float[] backwardWeight(ScalarKernels k, int threads, float[] gy, int gOff, int[] gs, float[] x, int xOff,
      int[] xs, ConvGeometry g, int o) {
    int kk = g.rows();
    float[] dw = new float[o * kk];
    if (k.inPlaceRowsF() && Planes.apply(g)) {
      // dw^T [kk, o] = sum_p unfold(x[p]) . gy[p]^T: the unfolded rows read in place from the shifted planes
      // (A), gy[p]^T packed (B, o columns); then transposed. Per output the sum runs over images, then
      // depth blocks of kc pixels, in order.
      Planes planes = new Planes(g);
      int mPanels = (kk + k.mrF() - 1) / k.mrF();
      float[] dwt = new float[kk * o];
      GemmF.gemmSumBatchRowsA(k, threads, planes.source(x, xOff, xs, 0, planes.rowOffPadded(mPanels * k.mrF())),
          gy, gOff, gs[0], gs[2], gs[1], dwt, g.n(), kk, o, g.cols());
      ScalarKernels.transposeBlockedF(dwt, 0, o, o, kk, dw, 0, kk);
      return dw;
    }
    Taps taps = taps(g, xs[1], xs[2], xs[3]);
    int nr = k.nrF();
    GemmF.PanelPacker packer = (img, pc, kc, jp, pb, pbOff) -> {
      int j0 = jp * nr;
      int nv = Math.min(nr, kk - j0);
      int base = pbOff + jp * nr * kc;
      int xb = xOff + img * xs[0];
      for (int q = 0; q < kc; q++) {
        int d = base + q * nr;
        taps.column(k, x, xb, pc + q, j0, nv, pb, d);
        Arrays.fill(pb, d + nv, d + nr, 0f);
      }
    };
    GemmF.gemmSumBatch(k, threads, gy, gOff, gs[0], gs[1], gs[2], packer, dw, g.n(), o, kk, g.cols());
    return dw;
  }

  private static final ThreadLocal<float[][]> COLUMNS = ThreadLocal.withInitial(() -> new float[1][0]);

  /**
   * {@code dx [n, c, h, w] = fold(w^T . gy[p])}: per image, the {@code [c*kh*kw, oh*ow]} columns in a
   * per-thread buffer, folded into the image right away. Images are split over the threads (each
   * product then on one thread) when there are enough of them, else each product uses all threads.
   */
  static float[] backwardInput(ScalarKernels k, int threads, float[] gy, int gOff, int[] gs, float[] w, int wOff,
      int wRs, int wCs, ConvGeometry g, int o) {
    int n = g.n();
    int kk = g.rows();
    int p = g.cols();
    int hw = g.h() * g.w();
    ConvGeometry tg = transposed(k, g, o);
    if (tg != null && forwardApplies(tg, g.c()) && planesForward(k, tg)) {
      // Stride 1: dx is the forward convolution of gy (o channels, padded by the kernel span less ph, pw)
      // with w flipped in both axes and its channels swapped, on the shifted-planes path: no columns, no fold.
      int taps = g.kh() * g.kw();
      float[] wt = new float[g.c() * o * taps];
      for (int ci = 0; ci < g.c(); ci++) {
        for (int oc = 0; oc < o; oc++) {
          for (int tp = 0; tp < taps; tp++) {
            wt[(ci * o + oc) * taps + tp] = w[wOff + oc * wRs + (ci * taps + taps - 1 - tp) * wCs];
          }
        }
      }
      return forward(k, threads, gy, gOff, new int[] {gs[0], gs[1], g.ow() * gs[2], gs[2]}, wt, 0, o * taps, 1,
          null, 0, 0, tg, g.c());
    }
    float[] dx = new float[n * g.c() * hw];
    boolean perImage = threads > 1 && n >= 2 * threads;
    int inner = perImage ? 1 : threads;
    int nr = k.nrF();
    // w^T (c*kh*kw x o) packed once for all images; each image's gy [o, oh*ow] is its B.
    int mPanels = (kk + k.mrF() - 1) / k.mrF();
    boolean pre = (p + nr - 1) / nr >= 4;
    GemmF.PackedA wt = GemmF.packShared(k, w, wOff, wCs, wRs, kk, o, pre,
        new float[mPanels * k.mrF() * o * (pre ? k.aLanesF() : 1)]);
    Parallel.forRange(perImage ? threads : 1, n, 1, (lo, hi) -> {
      float[][] holder = COLUMNS.get();
      if (holder[0].length < kk * p) {
        holder[0] = new float[kk * p];
      }
      float[] cols = holder[0];
      for (int img = lo; img < hi; img++) {
        Arrays.fill(cols, 0, kk * p, 0f);
        int gb = gOff + img * gs[0];
        GemmF.GroupPacker rows = (t0, t1, nPanels, pc, kc, pb) -> {
          for (int q = 0; q < kc; q++) {
            for (int t = t0; t < t1; t++) {
              int j0 = t * nr;
              int nv = Math.min(nr, p - j0);
              int dst = ((t - t0) * kc + q) * nr;
              int src = gb + (pc + q) * gs[1] + j0 * gs[2];
              if (gs[2] == 1) {
                System.arraycopy(gy, src, pb, dst, nv);
              } else {
                for (int j = 0; j < nv; j++) {
                  pb[dst + j] = gy[src + j * gs[2]];
                }
              }
              Arrays.fill(pb, dst + nv, dst + nr, 0f);
            }
          }
        };
        GemmF.sharedA(k, inner, wt, rows, cols, 1, p);
        for (int ci = 0; ci < g.c(); ci++) {
          foldPlane(k, cols, ci * g.kh() * g.kw() * p, p, 1, g, ci, dx, (img * g.c() + ci) * hw);
        }
      }
    });
    return dx;
  }

  /**
   * Whether {@link #forward} runs on the shifted planes: the kernel set reads rows in place, the planes apply,
   * and there are at least 4 column panels over the images to share W's packing across.
   */
  static boolean planesForward(ScalarKernels k, ConvGeometry g) {
    int nr = k.nrF();
    return k.inPlaceRowsF() && Planes.apply(g) && (long) g.n() * ((g.cols() + nr - 1) / nr) >= 4;
  }

  /**
   * For {@link #backwardInput}: the geometry of the forward convolution over gy that computes the input
   * gradient of g, when the kernel set reads rows in place ({@link ScalarKernels#inPlaceRowsF}), g has stride 1 along both axes and enough input channels to fill the micro-kernel's
   * rows, padding at most the kernel's span, and the shifted planes of gy apply; else null. Tap (ki, kj) of
   * g reads gy at {@code (i + ph - ki*dh, j + pw - kj*dw)}, which is tap {@code (kh-1-ki, kw-1-kj)} of a
   * convolution with padding {@code (kh-1)*dh - ph}, whose output is h x w.
   */
  static ConvGeometry transposed(ScalarKernels k, ConvGeometry g, int o) {
    int spanH = (g.kh() - 1) * g.dh();
    int spanW = (g.kw() - 1) * g.dw();
    if (!k.inPlaceRowsF() || g.sh() != 1 || g.sw() != 1 || g.c() < k.mrF() || g.ph() > spanH || g.pw() > spanW) {
      return null;
    }
    ConvGeometry t = new ConvGeometry(g.n(), o, g.oh(), g.ow(), g.kh(), g.kw(), 1, 1, spanH - g.ph(), spanW - g.pw(),
        g.dh(), g.dw());
    return Planes.apply(t) && t.oh() == g.h() && t.ow() == g.w() ? t : null;
  }

  /**
   * Adds channel {@code ci}'s rows of one image's columns (row {@code (ci*kh + ki)*kw + kj} at
   * {@code rowBase + (ki*kw + kj) * rowStride}, column stride {@code colStride}) into its plane
   * {@code out[dst .. dst + h*w)}, in a fixed order (col2im).
   */
  static void foldPlane(ScalarKernels k, float[] in, int rowBase, int rowStride, int colStride, ConvGeometry g, int ci,
      float[] out, int dst) {
    int oh = g.oh();
    int ow = g.ow();
    for (int ki = 0; ki < g.kh(); ki++) {
      int oiLo = firstValid(g.ph(), ki * g.dh(), g.sh());
      int oiHi = endValid(g.h(), g.ph(), ki * g.dh(), g.sh(), oh, oiLo);
      for (int kj = 0; kj < g.kw(); kj++) {
        int srcRow = rowBase + (ki * g.kw() + kj) * rowStride;
        int ojLo = firstValid(g.pw(), kj * g.dw(), g.sw());
        int ojHi = endValid(g.w(), g.pw(), kj * g.dw(), g.sw(), ow, ojLo);
        int len = ojHi - ojLo;
        if (len == 0) {
          continue;
        }
        int jj0 = ojLo * g.sw() - g.pw() + kj * g.dw();
        int sw = g.sw();
        for (int oi = oiLo; oi < oiHi; oi++) {
          int ii = oi * g.sh() - g.ph() + ki * g.dh();
          int src = srcRow + (oi * ow + ojLo) * colStride;
          int d = dst + ii * g.w() + jj0;
          if (sw == 1 && colStride == 1) {
            k.addRowF(out, d, in, src, len);
          } else {
            for (int j = 0; j < len; j++) {
              out[d + j * sw] += in[src + j * colStride];
            }
          }
        }
      }
    }
  }
}
