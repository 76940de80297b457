package org.metagrad.kernels.cpu;

import static org.metagrad.kernels.cpu.VectorLoops.DS;
import static org.metagrad.kernels.cpu.VectorLoops.FS;
import static org.metagrad.kernels.cpu.VectorLoops.VLD;
import static org.metagrad.kernels.cpu.VectorLoops.VLF;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.UnaryOp;

/**
 * Vector API versions of the inner loops. Loaded only after {@link VectorBackendFactory} has checked
 * that {@code jdk.incubator.vector} is in the boot layer, so a missing module never surfaces as a
 * {@link LinkageError}. Every loop has a scalar tail with the semantics of {@link ScalarKernels}, except
 * float exp, log and tanh, whose body and tail are {@link FloatMath}'s (see {@link VectorFloatMath}).
 */
final class VectorKernels extends ScalarKernels {
  /**
   * 512-bit vectors (AVX-512): the wide {@code MRW}-row micro-kernels with A broadcast from memory.
   * Narrower vectors (AVX2) keep the 6-row kernels, and for floats the pre-broadcast A panels measured
   * faster there (16 registers; broadcasts competed with the FMAs for the FP ports on that machine).
   */
  static final boolean WIDE = VLF >= 16;
  /** Depth of a GEMM block ({@link #kcF}) of the AVX2 set. */
  private static final int KC_NARROW = 128;
  /** Offsets of the depth rows of a packed B panel ({@code q * NRF}, q below KC_NARROW), for {@link #panelByTable}. */
  private static final int[] PANEL_ROWS = new int[KC_NARROW];

  static {
    for (int q = 0; q < PANEL_ROWS.length; q++) {
      PANEL_ROWS[q] = q * VectorLoops.NRF;
    }
  }

  // One float species only (no half-width one for tails): on JDK 17 a second FloatVector species made
  // C2 run the GEMM micro-kernels' vector ops through the boxed Java fallbacks (JFR: hundreds of GB of
  // vector payloads allocated; MAML 2nd order 1 step with the AVX2 set 755 -> 293 ms without it,
  // bench/RESULTS.md). Our reading of the compile log: the library's shared methods (fma, lanewise,
  // fromArray) then see two vector classes, and C2 no longer speculates the exact class of the
  // loop-carried accumulators. Tails use overlapping full vectors or lane extraction instead.

  /**
   * Whether pooling uses masked stores (512-bit vectors only). C2 compiles them to masked moves from JDK 18
   * on with AVX-512 (JEP 417; from JDK 20 on with AVX2, JDK-8289186); before, a masked store runs as a Java
   * loop that allocates (JDK 17 with AVX-512: 12% of MAML's samples in it). Without them, the kernels store
   * full vectors that end inside the row, or single lanes.
   */
  private final boolean maskedStores;

  /**
   * Whether the AVX2 set's single-matrix GEMM packs A row by row for the per-row-stream kernel
   * ({@code tileARF}) rather than pre-broadcast. SGEMM n=1024, 256-bit vectors on a Zen 4 core (JMH
   * GemmBench, -XX:UseAVX=2), 1 / 2 threads: on JDK 25 23.3 / 12.3 ms row by row against 33.8 / 20.5
   * pre-broadcast, on JDK 17 47.6 / 28.8 against 27.9 / 16.4 (its kernel spilled there; with the table
   * kernel of {@link #panelByTable}, one fork each, 29.1 / 18.9 against 27.2 / 22.3: mixed). Hence row by row
   * from JDK 25 on (JDK 18-24 not measured; they get JDK 17's choice). The conv kernels read W's rows in place
   * on every JDK (JDK 17: 71.0 -> 60.9 ms for conv4's layer 2 against pre-broadcast W).
   */
  private final boolean rowsAGemm;

  /**
   * Whether the AVX2 set's kernels with A's rows in place (conv weight gradient, row-by-row GEMM) read the
   * packed B panel through a table of its row offsets ({@code tileARRF}, the conv forward's kernel) rather than
   * at an index linear in q ({@code tileARF}). With the linear index the loop body is one block, and C2 on
   * JDK 17 loads all six A broadcasts first: 6 + 2 + 12 registers of 16, so it spilled four accumulators to the
   * stack inside the loop (disassembled with -XX:CompileCommand=print; JDK 25 does not). Since the spill slots
   * are per-thread and the buffers move at each GC, one thread's weight gradient sometimes ran 3x slower for a
   * GC cycle (JFR; the JDK 17 conv4 slowdown of bench/RESULTS.md). The table's bounds checks split the body and
   * nothing spills. JMH WorkloadBench, -XX:UseAVX=2, linear / table: JDK 17 conv4 77.7 / 80.9 -> 70.3 / 70.5 ms,
   * MAML 2nd order 1 step 271 / 268 -> 241 / 233; JDK 25 conv4 61.1 / 63.0 -> 64.9 / 64.9, MAML 215 / 214 ->
   * 224 / 225. Hence the table before JDK 25 (JDK 18-24 not measured).
   */
  private final boolean panelByTable;

  VectorKernels() {
    this(defaultMaskedStores(), defaultRowsAGemm(), defaultPanelByTable());
  }

  /**
   * With masked stores in pooling or without, A row by row in the GEMM or not, B panels by table or not (tests
   * run all on any JDK).
   */
  VectorKernels(boolean maskedStores, boolean rowsAGemm, boolean panelByTable) {
    this.maskedStores = WIDE && maskedStores;
    this.rowsAGemm = !WIDE && rowsAGemm;
    this.panelByTable = !WIDE && panelByTable;
  }

  static boolean defaultMaskedStores() {
    return Runtime.version().feature() >= 18;
  }

  static boolean defaultRowsAGemm() {
    return Runtime.version().feature() >= 25;
  }

  static boolean defaultPanelByTable() {
    return Runtime.version().feature() < 25;
  }

  boolean panelByTable() {
    return panelByTable;
  }

  @Override
  boolean rowsAGemmF() {
    return rowsAGemm;
  }

  boolean maskedStores() {
    return maskedStores;
  }

  @Override
  int mrF() {
    return WIDE ? VectorLoops.MRW : VectorLoops.MRF;
  }

  @Override
  int nrF() {
    return VectorLoops.NRF;
  }

  @Override
  int mrD() {
    return WIDE ? VectorLoops.MRW : VectorLoops.MRD;
  }

  @Override
  int kcF() {
    return WIDE ? 256 : KC_NARROW;
  }

  @Override
  int aLanesF() {
    return WIDE ? 1 : VLF;
  }

  /** One broadcast vector store per value (the scalar loop: 24% of the JFR samples of an AVX2 1024 SGEMM). */
  @Override
  void broadcastRowF(float[] a, int r, int aRs, int mv, int mr, int lanes, float[] pa, int d) {
    if (lanes != VLF) {
      super.broadcastRowF(a, r, aRs, mv, mr, lanes, pa, d);
      return;
    }
    for (int i = 0; i < mr; i++, d += VLF) {
      FloatVector.broadcast(FS, i < mv ? a[r + i * aRs] : 0f).intoArray(pa, d);
    }
  }

  @Override
  int nrD() {
    return VectorLoops.NRD;
  }

  @Override
  void binaryF(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n, int mode) {
    if (n < VLF) {
      super.binaryF(op, a, ao, b, bo, o, oo, n, mode);
    } else {
      VectorLoops.binaryF(op, a, ao, b, bo, o, oo, n, mode);
    }
  }

  @Override
  void binaryD(BinaryOp op, double[] a, int ao, double[] b, int bo, double[] o, int oo, int n, int mode) {
    if (n < VLD) {
      super.binaryD(op, a, ao, b, bo, o, oo, n, mode);
    } else {
      VectorLoops.binaryD(op, a, ao, b, bo, o, oo, n, mode);
    }
  }

  @Override
  void unaryF(UnaryOp op, double p, float[] x, int xo, float[] o, int oo, int n) {
    int ub = FS.loopBound(n);
    // A switch expression with no default (a UnaryOp without a case here does not compile); each case yields how
    // many leading elements its vector loop wrote, and the scalar loop does the rest.
    int done = switch (op) {
      case NEG -> {
        int i = 0;
        for (; i < ub; i += VLF) {
          FloatVector.fromArray(FS, x, xo + i).neg().intoArray(o, oo + i);
        }
        yield i;
      }
      // exp, log and tanh: the project's own routines (FloatMath), vector body and scalar tail alike, so
      // the bits do not depend on the JIT tier, on where a thread's chunk starts, or on the run length.
      case EXP -> {
        VectorFloatMath.expLoop(x, xo, o, oo, n);
        yield n;
      }
      case LOG -> {
        VectorFloatMath.logLoop(x, xo, o, oo, n);
        yield n;
      }
      case SQRT -> {
        int i = 0;
        for (; i < ub; i += VLF) {
          FloatVector.fromArray(FS, x, xo + i).sqrt().intoArray(o, oo + i);
        }
        yield i;
      }
      case TANH -> {
        VectorFloatMath.tanhLoop(x, xo, o, oo, n);
        yield n;
      }
      case SIGN -> {
        FloatVector one = FloatVector.broadcast(FS, 1f);
        FloatVector minusOne = FloatVector.broadcast(FS, -1f);
        int i = 0;
        for (; i < ub; i += VLF) {
          FloatVector v = FloatVector.fromArray(FS, x, xo + i);
          // Zeros (either sign) and NaN pass through unchanged, as Math.signum does.
          v.blend(one, v.compare(VectorOperators.GT, 0f)).blend(minusOne, v.compare(VectorOperators.LT, 0f))
              .intoArray(o, oo + i);
        }
        yield i;
      }
      case POW -> {
        // POW with p in {0, 1} is exact in the scalar loop too. POW with any other exponent but 2 is computed
        // per element in double by StrictMath (the reference's value): a float pow within an ulp needs log2 in
        // more than float precision, and no workload spends time in it.
        int i = 0;
        if (p == 2) {
          for (; i < ub; i += VLF) {
            FloatVector v = FloatVector.fromArray(FS, x, xo + i);
            v.mul(v).intoArray(o, oo + i);
          }
        }
        yield i;
      }
    };
    if (done < n) {
      super.unaryF(op, p, x, xo + done, o, oo + done, n - done);
    }
  }

  /** Exp, log and tanh through {@link FloatMath}, as the contiguous loops compute them. */
  @Override
  float unaryF(UnaryOp op, double p, float x) {
    return switch (op) {
      case EXP -> FloatMath.exp(x);
      case LOG -> FloatMath.log(x);
      case TANH -> FloatMath.tanh(x);
      case NEG, SQRT, SIGN, POW -> super.unaryF(op, p, x);
    };
  }

  @Override
  void unaryD(UnaryOp op, double p, double[] x, int xo, double[] o, int oo, int n) {
    int ub = DS.loopBound(n);
    // A switch expression with no default, as in unaryF: each case yields how many leading elements its vector
    // loop wrote, and the scalar loop does the rest.
    int done = switch (op) {
      // Transcendental ops in double go through StrictMath element by element (the reference's bits on
      // every JIT tier; lanewise EXP/LOG/POW/TANH changed by an ulp once C2 compiled them). Float64 is the
      // gradient-check and test dtype, not the training one, so no double polynomial of our own.
      case EXP, LOG, TANH -> 0;
      case NEG -> {
        int i = 0;
        for (; i < ub; i += VLD) {
          DoubleVector.fromArray(DS, x, xo + i).neg().intoArray(o, oo + i);
        }
        yield i;
      }
      case SQRT -> {
        int i = 0;
        for (; i < ub; i += VLD) {
          DoubleVector.fromArray(DS, x, xo + i).sqrt().intoArray(o, oo + i);
        }
        yield i;
      }
      case SIGN -> {
        DoubleVector one = DoubleVector.broadcast(DS, 1d);
        DoubleVector minusOne = DoubleVector.broadcast(DS, -1d);
        int i = 0;
        for (; i < ub; i += VLD) {
          DoubleVector v = DoubleVector.fromArray(DS, x, xo + i);
          v.blend(one, v.compare(VectorOperators.GT, 0d)).blend(minusOne, v.compare(VectorOperators.LT, 0d))
              .intoArray(o, oo + i);
        }
        yield i;
      }
      case POW -> {
        int i = 0;
        if (p == 2) {
          for (; i < ub; i += VLD) {
            DoubleVector v = DoubleVector.fromArray(DS, x, xo + i);
            v.mul(v).intoArray(o, oo + i);
          }
        }
        yield i;
      }
    };
    if (done < n) {
      super.unaryD(op, p, x, xo + done, o, oo + done, n - done);
    }
  }

  @Override
  void whereF(float[] c, int co, int sc, float[] a, int ao, int sa, float[] b, int bo, int sb,
      float[] o, int oo, int n) {
    int ub = FS.loopBound(n);
    if (sc != 1 || sa > 1 || sb > 1 || ub == 0) {
      super.whereF(c, co, sc, a, ao, sa, b, bo, sb, o, oo, n);
      return;
    }
    // Stride-0 operands (relu's zero, a broadcast constant) are loaded once as a broadcast.
    // One loop per layout: a vector picked by a ternary inside the loop can defeat C2's scalarization.
    int i = 0;
    if (sa == 1 && sb == 1) {
      for (; i < ub; i += VLF) {
        VectorMask<Float> m = FloatVector.fromArray(FS, c, co + i).compare(VectorOperators.NE, 0f);
        FloatVector.fromArray(FS, b, bo + i).blend(FloatVector.fromArray(FS, a, ao + i), m).intoArray(o, oo + i);
      }
    } else if (sa == 1) {
      FloatVector vb = FloatVector.broadcast(FS, b[bo]);
      for (; i < ub; i += VLF) {
        VectorMask<Float> m = FloatVector.fromArray(FS, c, co + i).compare(VectorOperators.NE, 0f);
        vb.blend(FloatVector.fromArray(FS, a, ao + i), m).intoArray(o, oo + i);
      }
    } else if (sb == 1) {
      FloatVector va = FloatVector.broadcast(FS, a[ao]);
      for (; i < ub; i += VLF) {
        VectorMask<Float> m = FloatVector.fromArray(FS, c, co + i).compare(VectorOperators.NE, 0f);
        FloatVector.fromArray(FS, b, bo + i).blend(va, m).intoArray(o, oo + i);
      }
    } else {
      FloatVector va = FloatVector.broadcast(FS, a[ao]);
      FloatVector vb = FloatVector.broadcast(FS, b[bo]);
      for (; i < ub; i += VLF) {
        VectorMask<Float> m = FloatVector.fromArray(FS, c, co + i).compare(VectorOperators.NE, 0f);
        vb.blend(va, m).intoArray(o, oo + i);
      }
    }
    super.whereF(c, co + i, sc, a, ao + i * sa, sa, b, bo + i * sb, sb, o, oo + i, n - i);
  }

  @Override
  void whereD(double[] c, int co, int sc, double[] a, int ao, int sa, double[] b, int bo, int sb,
      double[] o, int oo, int n) {
    int ub = DS.loopBound(n);
    if (sc != 1 || sa > 1 || sb > 1 || ub == 0) {
      super.whereD(c, co, sc, a, ao, sa, b, bo, sb, o, oo, n);
      return;
    }
    // One loop per layout: a vector picked by a ternary inside the loop can defeat C2's scalarization.
    int i = 0;
    if (sa == 1 && sb == 1) {
      for (; i < ub; i += VLD) {
        VectorMask<Double> m = DoubleVector.fromArray(DS, c, co + i).compare(VectorOperators.NE, 0d);
        DoubleVector.fromArray(DS, b, bo + i).blend(DoubleVector.fromArray(DS, a, ao + i), m).intoArray(o, oo + i);
      }
    } else if (sa == 1) {
      DoubleVector vb = DoubleVector.broadcast(DS, b[bo]);
      for (; i < ub; i += VLD) {
        VectorMask<Double> m = DoubleVector.fromArray(DS, c, co + i).compare(VectorOperators.NE, 0d);
        vb.blend(DoubleVector.fromArray(DS, a, ao + i), m).intoArray(o, oo + i);
      }
    } else if (sb == 1) {
      DoubleVector va = DoubleVector.broadcast(DS, a[ao]);
      for (; i < ub; i += VLD) {
        VectorMask<Double> m = DoubleVector.fromArray(DS, c, co + i).compare(VectorOperators.NE, 0d);
        DoubleVector.fromArray(DS, b, bo + i).blend(va, m).intoArray(o, oo + i);
      }
    } else {
      DoubleVector va = DoubleVector.broadcast(DS, a[ao]);
      DoubleVector vb = DoubleVector.broadcast(DS, b[bo]);
      for (; i < ub; i += VLD) {
        VectorMask<Double> m = DoubleVector.fromArray(DS, c, co + i).compare(VectorOperators.NE, 0d);
        vb.blend(va, m).intoArray(o, oo + i);
      }
    }
    super.whereD(c, co + i, sc, a, ao + i * sa, sa, b, bo + i * sb, sb, o, oo + i, n - i);
  }

  @Override
  void maskPositiveF(float[] x, int xo, int sx, float[] v, int vo, int sv, float[] o, int oo, int n) {
    int ub = FS.loopBound(n);
    if (sx != 1 || sv != 1 || ub == 0) {
      super.maskPositiveF(x, xo, sx, v, vo, sv, o, oo, n);
      return;
    }
    FloatVector zero = FloatVector.zero(FS);
    int i = 0;
    for (; i < ub; i += VLF) {
      // LE, not GT: the mask is false for NaN, so NaN passes v as in the scalar loop.
      VectorMask<Float> m = FloatVector.fromArray(FS, x, xo + i).compare(VectorOperators.LE, 0f);
      FloatVector.fromArray(FS, v, vo + i).blend(zero, m).intoArray(o, oo + i);
    }
    super.maskPositiveF(x, xo + i, 1, v, vo + i, 1, o, oo + i, n - i);
  }

  @Override
  void maskPositiveD(double[] x, int xo, int sx, double[] v, int vo, int sv, double[] o, int oo, int n) {
    int ub = DS.loopBound(n);
    if (sx != 1 || sv != 1 || ub == 0) {
      super.maskPositiveD(x, xo, sx, v, vo, sv, o, oo, n);
      return;
    }
    DoubleVector zero = DoubleVector.zero(DS);
    int i = 0;
    for (; i < ub; i += VLD) {
      VectorMask<Double> m = DoubleVector.fromArray(DS, x, xo + i).compare(VectorOperators.LE, 0d);
      DoubleVector.fromArray(DS, v, vo + i).blend(zero, m).intoArray(o, oo + i);
    }
    super.maskPositiveD(x, xo + i, 1, v, vo + i, 1, o, oo + i, n - i);
  }

  @Override
  double sumF(float[] x, int xo, int n) {
    if (n < 4 * VLF) {
      return super.sumF(x, xo, n);
    }
    double total = 0;
    float[] lanes = new float[VLF];
    int s = 0;
    for (; s + 4 * VLF <= n; ) {
      int e = Math.min(n, s + VECTOR_SUM_BLOCK) - 4 * VLF;
      FloatVector a0 = FloatVector.zero(FS);
      FloatVector a1 = FloatVector.zero(FS);
      FloatVector a2 = FloatVector.zero(FS);
      FloatVector a3 = FloatVector.zero(FS);
      int i = s;
      for (; i <= e; i += 4 * VLF) {
        a0 = a0.add(FloatVector.fromArray(FS, x, xo + i));
        a1 = a1.add(FloatVector.fromArray(FS, x, xo + i + VLF));
        a2 = a2.add(FloatVector.fromArray(FS, x, xo + i + 2 * VLF));
        a3 = a3.add(FloatVector.fromArray(FS, x, xo + i + 3 * VLF));
      }
      // reduceLanes(ADD) on floats has an unspecified order (the intrinsic and the interpreter may
      // differ): sum the lanes in a fixed order so results are the same in every JVM state.
      a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
      float block = 0;
      for (int l = 0; l < VLF; l++) {
        block += lanes[l];
      }
      total += block;
      s = i;
    }
    return total + super.sumF(x, xo + s, n - s);
  }

  /** Elements a vector block sums in float before adding the block into the double total. */
  private static final int VECTOR_SUM_BLOCK = 1024;

  @Override
  double sumD(double[] x, int xo, int n) {
    if (n < 4 * VLD) {
      return super.sumD(x, xo, n);
    }
    DoubleVector a0 = DoubleVector.zero(DS);
    DoubleVector a1 = DoubleVector.zero(DS);
    int i = 0;
    for (int ub = n - 2 * VLD; i <= ub; i += 2 * VLD) {
      a0 = a0.add(DoubleVector.fromArray(DS, x, xo + i));
      a1 = a1.add(DoubleVector.fromArray(DS, x, xo + i + VLD));
    }
    double[] lanes = new double[VLD];
    a0.add(a1).intoArray(lanes, 0);
    double total = 0;
    for (int l = 0; l < VLD; l++) {
      total += lanes[l];
    }
    return total + super.sumD(x, xo + i, n - i);
  }

  @Override
  float maxF(float[] x, int xo, int n) {
    int ub = FS.loopBound(n);
    if (ub == 0) {
      return super.maxF(x, xo, n);
    }
    // MAX lanes propagate NaN like Math.max, which is the reference's NaN rule.
    FloatVector m = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
    int i = 0;
    for (; i < ub; i += VLF) {
      m = m.lanewise(VectorOperators.MAX, FloatVector.fromArray(FS, x, xo + i));
    }
    float r = m.reduceLanes(VectorOperators.MAX);
    if (i < n) {
      float t = super.maxF(x, xo + i, n - i);
      if (t > r || t != t) {
        r = t;
      }
    }
    return r;
  }

  @Override
  double maxD(double[] x, int xo, int n) {
    int ub = DS.loopBound(n);
    if (ub == 0) {
      return super.maxD(x, xo, n);
    }
    DoubleVector m = DoubleVector.broadcast(DS, Double.NEGATIVE_INFINITY);
    int i = 0;
    for (; i < ub; i += VLD) {
      m = m.lanewise(VectorOperators.MAX, DoubleVector.fromArray(DS, x, xo + i));
    }
    double r = m.reduceLanes(VectorOperators.MAX);
    if (i < n) {
      double t = super.maxD(x, xo + i, n - i);
      if (t > r || t != t) {
        r = t;
      }
    }
    return r;
  }

  @Override
  void addRowF(float[] acc, int ao, float[] x, int xo, int n) {
    int i = 0;
    for (int ub = FS.loopBound(n); i < ub; i += VLF) {
      FloatVector.fromArray(FS, acc, ao + i).add(FloatVector.fromArray(FS, x, xo + i)).intoArray(acc, ao + i);
    }
    super.addRowF(acc, ao + i, x, xo + i, n - i);
  }

  @Override
  void addRowD(double[] acc, int ao, double[] x, int xo, int n) {
    int i = 0;
    for (int ub = DS.loopBound(n); i < ub; i += VLD) {
      DoubleVector.fromArray(DS, acc, ao + i).add(DoubleVector.fromArray(DS, x, xo + i)).intoArray(acc, ao + i);
    }
    super.addRowD(acc, ao + i, x, xo + i, n - i);
  }

  @Override
  void maxRowF(float[] acc, int ao, float[] x, int xo, int n) {
    int i = 0;
    for (int ub = FS.loopBound(n); i < ub; i += VLF) {
      FloatVector.fromArray(FS, acc, ao + i).lanewise(VectorOperators.MAX, FloatVector.fromArray(FS, x, xo + i))
          .intoArray(acc, ao + i);
    }
    super.maxRowF(acc, ao + i, x, xo + i, n - i);
  }

  @Override
  void maxRowD(double[] acc, int ao, double[] x, int xo, int n) {
    int i = 0;
    for (int ub = DS.loopBound(n); i < ub; i += VLD) {
      DoubleVector.fromArray(DS, acc, ao + i).lanewise(VectorOperators.MAX, DoubleVector.fromArray(DS, x, xo + i))
          .intoArray(acc, ao + i);
    }
    super.maxRowD(acc, ao + i, x, xo + i, n - i);
  }

  @Override
  double sumSqDevF(float[] x, int xo, int n, float m) {
    if (n < 2 * VLF) {
      return super.sumSqDevF(x, xo, n, m);
    }
    FloatVector vm = FloatVector.broadcast(FS, m);
    float[] lanes = new float[VLF];
    double total = 0;
    int s = 0;
    for (; s + 2 * VLF <= n; ) {
      int e = Math.min(n, s + VECTOR_SUM_BLOCK) - 2 * VLF;
      FloatVector a0 = FloatVector.zero(FS);
      FloatVector a1 = FloatVector.zero(FS);
      int i = s;
      for (; i <= e; i += 2 * VLF) {
        FloatVector d0 = FloatVector.fromArray(FS, x, xo + i).sub(vm);
        FloatVector d1 = FloatVector.fromArray(FS, x, xo + i + VLF).sub(vm);
        a0 = d0.fma(d0, a0);
        a1 = d1.fma(d1, a1);
      }
      total += fixedSum(a0.add(a1), lanes);
      s = i;
    }
    return total + super.sumSqDevF(x, xo + s, n - s, m);
  }

  @Override
  double dotDevF(float[] g, int go, float[] x, int xo, int n, float m) {
    if (n < 2 * VLF) {
      return super.dotDevF(g, go, x, xo, n, m);
    }
    FloatVector vm = FloatVector.broadcast(FS, m);
    float[] lanes = new float[VLF];
    double total = 0;
    int s = 0;
    for (; s + 2 * VLF <= n; ) {
      int e = Math.min(n, s + VECTOR_SUM_BLOCK) - 2 * VLF;
      FloatVector a0 = FloatVector.zero(FS);
      FloatVector a1 = FloatVector.zero(FS);
      int i = s;
      for (; i <= e; i += 2 * VLF) {
        a0 = FloatVector.fromArray(FS, x, xo + i).sub(vm).fma(FloatVector.fromArray(FS, g, go + i), a0);
        a1 = FloatVector.fromArray(FS, x, xo + i + VLF).sub(vm).fma(FloatVector.fromArray(FS, g, go + i + VLF), a1);
      }
      total += fixedSum(a0.add(a1), lanes);
      s = i;
    }
    return total + super.dotDevF(g, go + s, x, xo + s, n - s, m);
  }

  /** The lanes summed in a fixed order (reduceLanes' order is unspecified). */
  private static double fixedSum(FloatVector v, float[] lanes) {
    v.intoArray(lanes, 0);
    float block = 0;
    for (int l = 0; l < VLF; l++) {
      block += lanes[l];
    }
    return block;
  }

  @Override
  void normF(float[] x, int xo, float[] o, int oo, int n, float m, float sc, float b) {
    FloatVector vm = FloatVector.broadcast(FS, m);
    FloatVector vs = FloatVector.broadcast(FS, sc);
    FloatVector vb = FloatVector.broadcast(FS, b);
    int i = 0;
    for (int ub = FS.loopBound(n); i < ub; i += VLF) {
      FloatVector.fromArray(FS, x, xo + i).sub(vm).fma(vs, vb).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      o[oo + i] = Math.fma(x[xo + i] - m, sc, b);
    }
  }

  @Override
  void normD(double[] x, int xo, double[] o, int oo, int n, double m, double sc, double b) {
    DoubleVector vm = DoubleVector.broadcast(DS, m);
    DoubleVector vs = DoubleVector.broadcast(DS, sc);
    DoubleVector vb = DoubleVector.broadcast(DS, b);
    int i = 0;
    for (int ub = DS.loopBound(n); i < ub; i += VLD) {
      DoubleVector.fromArray(DS, x, xo + i).sub(vm).fma(vs, vb).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      o[oo + i] = Math.fma(x[xo + i] - m, sc, b);
    }
  }

  @Override
  void bnBackF(float[] g, int go, float[] x, int xo, float[] o, int oo, int n, float m, float a, float b, float c) {
    FloatVector vm = FloatVector.broadcast(FS, m);
    FloatVector va = FloatVector.broadcast(FS, a);
    FloatVector vb = FloatVector.broadcast(FS, b);
    FloatVector vc = FloatVector.broadcast(FS, c);
    int i = 0;
    for (int ub = FS.loopBound(n); i < ub; i += VLF) {
      FloatVector t = FloatVector.fromArray(FS, x, xo + i).sub(vm).fma(vb, vc);
      FloatVector.fromArray(FS, g, go + i).fma(va, t).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      o[oo + i] = Math.fma(g[go + i], a, Math.fma(x[xo + i] - m, b, c));
    }
  }

  @Override
  void bnBackD(double[] g, int go, double[] x, int xo, double[] o, int oo, int n, double m, double a, double b,
               double c) {
    DoubleVector vm = DoubleVector.broadcast(DS, m);
    DoubleVector va = DoubleVector.broadcast(DS, a);
    DoubleVector vb = DoubleVector.broadcast(DS, b);
    DoubleVector vc = DoubleVector.broadcast(DS, c);
    int i = 0;
    for (int ub = DS.loopBound(n); i < ub; i += VLD) {
      DoubleVector t = DoubleVector.fromArray(DS, x, xo + i).sub(vm).fma(vb, vc);
      DoubleVector.fromArray(DS, g, go + i).fma(va, t).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      o[oo + i] = Math.fma(g[go + i], a, Math.fma(x[xo + i] - m, b, c));
    }
  }

  /** Swaps lanes 2i and 2i + 1: brings each window's right column next to its left one. */
  private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(FS, i -> i ^ 1);
  /** Lane i (i below half the length) takes lane 2i: each window's result to the front. */
  private static final VectorShuffle<Float> EVENS_LOW = VectorShuffle.fromOp(FS, i -> i < VLF / 2 ? 2 * i : 0);
  /** Lane i (i at or above half the length) takes lane 2(i - half): each window's result to the back. */
  private static final VectorShuffle<Float> EVENS_HIGH =
      VectorShuffle.fromOp(FS, i -> i >= VLF / 2 ? 2 * (i - VLF / 2) : 0);
  private static final VectorMask<Float> LOW_HALF = VectorMask.fromLong(FS, (1L << (VLF / 2)) - 1);
  private static final VectorMask<Float> HIGH_HALF = LOW_HALF.not();

  // The pooling helpers take and return no vectors, so that their speed does not depend on C2 inlining
  // them (a vector crossing a call that is not inlined is boxed). Measured neutral against a helper that
  // returned the window maxima (bench/RESULTS.md); kept for that independence.

  /**
   * The 2x2 windows over VLF input columns at p0 (top row) and p1 (bottom row), each window's maximum in its
   * even lane: {@code mode} 0 stores the windows' results (the low half after EVENS_LOW) under LOW_HALF,
   * 1 under the masks of a row ending at {@code n} windows, 2 lane by lane for n windows. The maximum is the
   * reference's (NaN winning) except that among equal zeros of opposite sign either may be returned.
   */
  private static void poolBlockF(float[] x, int p0, int p1, float[] o, int oo, int mode, int n) {
    FloatVector a;
    FloatVector b;
    if (mode == 1) {
      VectorMask<Float> in = FS.indexInRange(0, 2 * n);
      a = FloatVector.fromArray(FS, x, p0, in);
      b = FloatVector.fromArray(FS, x, p1, in);
    } else {
      a = FloatVector.fromArray(FS, x, p0);
      b = FloatVector.fromArray(FS, x, p1);
    }
    FloatVector m = a.blend(b, b.compare(VectorOperators.GT, a).or(b.test(VectorOperators.IS_NAN)));
    FloatVector s = m.rearrange(SWAP_PAIRS);
    m = m.blend(s, s.compare(VectorOperators.GT, m).or(s.test(VectorOperators.IS_NAN)));
    if (mode == 2) {
      for (int t = 0; t < n; t++) {
        o[oo + t] = m.lane(2 * t);
      }
    } else {
      m.rearrange(EVENS_LOW).intoArray(o, oo, mode == 0 ? LOW_HALF : FS.indexInRange(0, n));
    }
  }

  /** VLF windows from 2 VLF input columns at p0 and p1 (two blocks), one full store at oo. */
  private static void poolPairF(float[] x, int p0, int p1, float[] o, int oo) {
    FloatVector a = FloatVector.fromArray(FS, x, p0);
    FloatVector b = FloatVector.fromArray(FS, x, p1);
    FloatVector m = a.blend(b, b.compare(VectorOperators.GT, a).or(b.test(VectorOperators.IS_NAN)));
    FloatVector s = m.rearrange(SWAP_PAIRS);
    FloatVector lo = m.blend(s, s.compare(VectorOperators.GT, m).or(s.test(VectorOperators.IS_NAN)))
        .rearrange(EVENS_LOW);
    a = FloatVector.fromArray(FS, x, p0 + VLF);
    b = FloatVector.fromArray(FS, x, p1 + VLF);
    m = a.blend(b, b.compare(VectorOperators.GT, a).or(b.test(VectorOperators.IS_NAN)));
    s = m.rearrange(SWAP_PAIRS);
    FloatVector hi = m.blend(s, s.compare(VectorOperators.GT, m).or(s.test(VectorOperators.IS_NAN)))
        .rearrange(EVENS_HIGH);
    lo.blend(hi, HIGH_HALF).intoArray(o, oo);
  }

  /** Vector 2x2 pooling: the two rows' lanewise maximum, then each lane pair's. */
  @Override
  void maxPool2RowF(float[] x, int r0, int r1, float[] o, int oo, int ow) {
    int half = VLF / 2;
    int j = 0;
    if (maskedStores) {
      // Per block of VL input columns, the windows' results moved to the low half and stored under a mask;
      // the last windows (a 7- or 3-wide output row whole) under masks: lanes past the row are not read.
      for (; j + half <= ow; j += half) {
        poolBlockF(x, r0 + 2 * j, r1 + 2 * j, o, oo + j, 0, half);
      }
      if (j < ow) {
        poolBlockF(x, r0 + 2 * j, r1 + 2 * j, o, oo + j, 1, ow - j);
      }
      return;
    }
    if (VLF < 4) {
      super.maxPool2RowF(x, r0, r1, o, oo, ow);
      return;
    }
    if (ow >= VLF) {
      // Two blocks give VLF windows, one full store; the last step overlaps the one before it so that the row
      // ends on a full store (its overlapped windows are written twice with the same bits).
      for (;; j += VLF) {
        if (j + VLF > ow) {
          j = ow - VLF;
        }
        poolPairF(x, r0 + 2 * j, r1 + 2 * j, o, oo + j);
        if (j + VLF >= ow) {
          return;
        }
      }
    }
    // A row of fewer than VLF windows: blocks of half that many, each window taken out of its lane. The loads
    // may run past the row (the lanes past it are not stored) but not past the array.
    int lastLoad = x.length - VLF - Math.max(r0, r1);
    for (; j < ow && 2 * j <= lastLoad; j += half) {
      poolBlockF(x, r0 + 2 * j, r1 + 2 * j, o, oo + j, 2, Math.min(half, ow - j));
    }
    if (j < ow) {
      super.maxPool2RowF(x, r0 + 2 * j, r1 + 2 * j, o, oo + j, ow - j);
    }
  }

  /** Lane i holds element i / 2 of a half-length block: each window's value over its two columns. */
  private static final VectorShuffle<Float> DUP_PAIRS = VectorShuffle.fromOp(FS, i -> i / 2);

  /**
   * One block of {@code VLF / 2} windows of the pooling backward at window j: the same operations per element
   * as the scalar loop (identical bits). Reads VLF outputs and gradients of which the first half are used,
   * under masks {@code w} (windows) and {@code in} (columns) where given. Stores the first {@code cols}
   * gradient columns of both rows: as full vectors for VLF, under {@code in} where given, else lane by lane.
   */
  private static void maxPool2BackBlockF(float[] x, int r0, int r1, float[] out, int oo, float[] g, int go,
                                         float[] r, int q0, int q1, int j, VectorMask<Float> w,
                                         VectorMask<Float> in, int cols) {
    FloatVector one = FloatVector.broadcast(FS, 1f);
    FloatVector zero = FloatVector.zero(FS);
    FloatVector m;
    FloatVector gv;
    FloatVector x0;
    FloatVector x1;
    if (w == null) {
      m = FloatVector.fromArray(FS, out, oo + j);
      gv = FloatVector.fromArray(FS, g, go + j);
      x0 = FloatVector.fromArray(FS, x, r0 + 2 * j);
      x1 = FloatVector.fromArray(FS, x, r1 + 2 * j);
    } else {
      m = FloatVector.fromArray(FS, out, oo + j, w);
      gv = FloatVector.fromArray(FS, g, go + j, w);
      x0 = FloatVector.fromArray(FS, x, r0 + 2 * j, in);
      x1 = FloatVector.fromArray(FS, x, r1 + 2 * j, in);
    }
    m = m.rearrange(DUP_PAIRS);
    gv = gv.rearrange(DUP_PAIRS);
    FloatVector e0 = zero.blend(one, x0.compare(VectorOperators.EQ, m));
    FloatVector e1 = zero.blend(one, x1.compare(VectorOperators.EQ, m));
    // Per window ((e00 + e01) + (e10 + e11)) in both of its lanes, in the scalar loop's order.
    FloatVector top = e0.add(e0.rearrange(SWAP_PAIRS));
    FloatVector bottom = e1.add(e1.rearrange(SWAP_PAIRS));
    FloatVector gd = gv.div(top.add(bottom));
    FloatVector g0 = gd.mul(e0);
    FloatVector g1 = gd.mul(e1);
    if (in != null) {
      g0.intoArray(r, q0 + 2 * j, in);
      g1.intoArray(r, q1 + 2 * j, in);
    } else if (cols == VLF) {
      g0.intoArray(r, q0 + 2 * j);
      g1.intoArray(r, q1 + 2 * j);
    } else {
      for (int t = 0; t < cols; t++) {
        r[q0 + 2 * j + t] = g0.lane(t);
        r[q1 + 2 * j + t] = g1.lane(t);
      }
    }
  }

  /** Vector 2x2 pooling backward, the same operations per element as the scalar loop (identical bits). */
  @Override
  void maxPool2BackRowF(float[] x, int r0, int r1, float[] out, int oo, float[] g, int go, float[] r, int q0, int q1,
                        int ow) {
    int half = VLF / 2;
    if (VLF < 4) {
      super.maxPool2BackRowF(x, r0, r1, out, oo, g, go, r, q0, q1, ow);
      return;
    }
    // Blocks load VLF outputs and gradients of which the first half are used: the rest may run past the row
    // (into the next one) but not past the arrays.
    int room = Math.min(out.length - oo, g.length - go) - VLF;
    int j = 0;
    for (int end = Math.min(ow - half, room); j <= end; j += half) {
      maxPool2BackBlockF(x, r0, r1, out, oo, g, go, r, q0, q1, j, null, null, VLF);
    }
    if (j >= ow) {
      return;
    }
    if (maskedStores) {
      // The last windows under masks (a 7- or 3-wide output row whole, or those the array ends kept from the
      // loop above).
      for (; j < ow; j += half) {
        maxPool2BackBlockF(x, r0, r1, out, oo, g, go, r, q0, q1, j, FS.indexInRange(j, ow),
            FS.indexInRange(2 * j, 2 * ow), VLF);
      }
      return;
    }
    // No masked stores: a last block overlapping the one before it ends the row on full stores (the overlapped
    // gradients are written twice with the same bits); a row of fewer than half a vector of windows is stored
    // lane by lane. Both where the arrays have room for the loads.
    int last = ow >= half ? ow - half : j;
    if (last <= room && 2 * last + VLF <= x.length - Math.max(r0, r1)) {
      maxPool2BackBlockF(x, r0, r1, out, oo, g, go, r, q0, q1, last, null, null, ow >= half ? VLF : 2 * (ow - j));
      return;
    }
    super.maxPool2BackRowF(x, r0 + 2 * j, r1 + 2 * j, out, oo + j, g, go + j, r, q0 + 2 * j, q1 + 2 * j, ow - j);
  }

  @Override
  void axpyF(float alpha, float[] x, int xo, float[] y, int yo, int n) {
    FloatVector va = FloatVector.broadcast(FS, alpha);
    int i = 0;
    for (int ub = FS.loopBound(n); i < ub; i += VLF) {
      FloatVector.fromArray(FS, x, xo + i).fma(va, FloatVector.fromArray(FS, y, yo + i)).intoArray(y, yo + i);
    }
    for (; i < n; i++) {
      y[yo + i] = Math.fma(x[xo + i], alpha, y[yo + i]);
    }
  }

  @Override
  void axpyD(double alpha, double[] x, int xo, double[] y, int yo, int n) {
    DoubleVector va = DoubleVector.broadcast(DS, alpha);
    int i = 0;
    for (int ub = DS.loopBound(n); i < ub; i += VLD) {
      DoubleVector.fromArray(DS, x, xo + i).fma(va, DoubleVector.fromArray(DS, y, yo + i)).intoArray(y, yo + i);
    }
    for (; i < n; i++) {
      y[yo + i] = Math.fma(x[xo + i], alpha, y[yo + i]);
    }
  }

  /**
   * Vector dot products: lane l of each accumulator sums the products at q = l, l + VL, ... in order,
   * then the lanes are added by a fixed tree and the scalar tail after them (a fixed order; lanewise
   * vector arithmetic is exact IEEE, unlike a reduceLanes whose order the API leaves open). Full 4 x 3
   * blocks keep 12 accumulators and load 7 vectors per 12 FMAs; other shapes take one dot at a time.
   */
  @Override
  void dotBlockF(float[] a, int ao, int aRs, float[] b, int bo, int bCs, int kk, float[] c, int co, int ldc,
                 int rows, int cols) {
    int ub = FS.loopBound(kk);
    if (rows != 4 || cols != 3) {
      for (int r = 0; r < rows; r++) {
        for (int s = 0; s < cols; s++) {
          int x = ao + r * aRs;
          int y = bo + s * bCs;
          FloatVector acc = FloatVector.zero(FS);
          for (int q = 0; q < ub; q += VLF) {
            acc = FloatVector.fromArray(FS, a, x + q).fma(FloatVector.fromArray(FS, b, y + q), acc);
          }
          c[co + r * ldc + s] += finishDot(acc, a, x, b, y, ub, kk);
        }
      }
      return;
    }
    int a0 = ao;
    int a1 = ao + aRs;
    int a2 = ao + 2 * aRs;
    int a3 = ao + 3 * aRs;
    int b0 = bo;
    int b1 = bo + bCs;
    int b2 = bo + 2 * bCs;
    FloatVector c00 = FloatVector.zero(FS), c01 = FloatVector.zero(FS), c02 = FloatVector.zero(FS);
    FloatVector c10 = FloatVector.zero(FS), c11 = FloatVector.zero(FS), c12 = FloatVector.zero(FS);
    FloatVector c20 = FloatVector.zero(FS), c21 = FloatVector.zero(FS), c22 = FloatVector.zero(FS);
    FloatVector c30 = FloatVector.zero(FS), c31 = FloatVector.zero(FS), c32 = FloatVector.zero(FS);
    for (int q = 0; q < ub; q += VLF) {
      FloatVector v0 = FloatVector.fromArray(FS, b, b0 + q);
      FloatVector v1 = FloatVector.fromArray(FS, b, b1 + q);
      FloatVector v2 = FloatVector.fromArray(FS, b, b2 + q);
      FloatVector u = FloatVector.fromArray(FS, a, a0 + q);
      c00 = u.fma(v0, c00);
      c01 = u.fma(v1, c01);
      c02 = u.fma(v2, c02);
      u = FloatVector.fromArray(FS, a, a1 + q);
      c10 = u.fma(v0, c10);
      c11 = u.fma(v1, c11);
      c12 = u.fma(v2, c12);
      u = FloatVector.fromArray(FS, a, a2 + q);
      c20 = u.fma(v0, c20);
      c21 = u.fma(v1, c21);
      c22 = u.fma(v2, c22);
      u = FloatVector.fromArray(FS, a, a3 + q);
      c30 = u.fma(v0, c30);
      c31 = u.fma(v1, c31);
      c32 = u.fma(v2, c32);
    }
    c[co] += finishDot(c00, a, a0, b, b0, ub, kk);
    c[co + 1] += finishDot(c01, a, a0, b, b1, ub, kk);
    c[co + 2] += finishDot(c02, a, a0, b, b2, ub, kk);
    c[co + ldc] += finishDot(c10, a, a1, b, b0, ub, kk);
    c[co + ldc + 1] += finishDot(c11, a, a1, b, b1, ub, kk);
    c[co + ldc + 2] += finishDot(c12, a, a1, b, b2, ub, kk);
    c[co + 2 * ldc] += finishDot(c20, a, a2, b, b0, ub, kk);
    c[co + 2 * ldc + 1] += finishDot(c21, a, a2, b, b1, ub, kk);
    c[co + 2 * ldc + 2] += finishDot(c22, a, a2, b, b2, ub, kk);
    c[co + 3 * ldc] += finishDot(c30, a, a3, b, b0, ub, kk);
    c[co + 3 * ldc + 1] += finishDot(c31, a, a3, b, b1, ub, kk);
    c[co + 3 * ldc + 2] += finishDot(c32, a, a3, b, b2, ub, kk);
  }

  /**
   * With 512-bit vectors, the transposing pack as gathers: for each depth q one gather of VL columns
   * {@code b[src + j * bCs + q]} and one contiguous store (hand-timed harness, not JMH, panels in cache:
   * 3.6 ms against 4.8 ms for the blocked scalar copy and 9.5 ms before, on conv4's layer-2 weight
   * gradient panels). Other widths keep the blocked scalar copy.
   */
  @Override
  void packColumnsF(float[] b, int src, int bCs, int kc, float[] pb, int base, int nr) {
    if (!WIDE || nr % VLF != 0) {
      super.packColumnsF(b, src, bCs, kc, pb, base, nr);
      return;
    }
    // The nr columns are first copied as nr sequential runs of kc values into L1 (B is often far larger
    // than the caches, and gathering straight from it reads 16 streams at once, which measured no faster
    // than the scalar copy), then gathered from there.
    Staging st = STAGING.get();
    float[] t = st.columns(nr * kc);
    int[] idx = st.lanes(kc);
    for (int j = 0; j < nr; j++) {
      System.arraycopy(b, src + j * bCs, t, j * kc, kc);
    }
    for (int q = 0; q < kc; q++) {
      for (int j = 0; j < nr; j += VLF) {
        FloatVector.fromArray(FS, t, j * kc + q, idx, 0).intoArray(pb, base + q * nr + j);
      }
    }
  }

  @Override
  void gatherF(float[] x, int base, int[] idx, int io, float[] dst, int d, int n) {
    int j = 0;
    for (; j <= n - VLF; j += VLF) {
      FloatVector.fromArray(FS, x, base, idx, io + j).intoArray(dst, d + j);
    }
    for (; j < n; j++) {
      dst[d + j] = x[base + idx[io + j]];
    }
  }

  @Override
  void loadMaskedF(float[] x, int off, boolean[] m, int mo, float[] dst, int d, int n) {
    int j = 0;
    // A masked load reads (and range-checks) only the lanes set in the mask; the others come back 0.
    for (; j <= n - VLF; j += VLF) {
      FloatVector.fromArray(FS, x, off + j, VectorMask.fromArray(FS, m, mo + j)).intoArray(dst, d + j);
    }
    super.loadMaskedF(x, off + j, m, mo + j, dst, d + j, n - j);
  }

  @Override
  void gatherMaskedF(float[] x, int base, int[] idx, int io, boolean[] m, int mo, float[] dst, int d, int n) {
    int j = 0;
    for (; j <= n - VLF; j += VLF) {
      VectorMask<Float> mask = VectorMask.fromArray(FS, m, mo + j);
      FloatVector v = FloatVector.fromArray(FS, x, base, idx, io + j);
      FloatVector.zero(FS).blend(v, mask).intoArray(dst, d + j);
    }
    for (; j < n; j++) {
      dst[d + j] = m[mo + j] ? x[base + idx[io + j]] : 0f;
    }
  }

  /** Per-thread staging of {@link #packColumnsF}: the copied columns and the gather offsets for one kc. */
  private static final class Staging {
    private float[] columns = new float[0];
    private final int[] lanes = new int[VLF];
    private int lanesKc = -1;

    float[] columns(int n) {
      if (columns.length < n) {
        columns = new float[n];
      }
      return columns;
    }

    /** Lane l gathers column l of a run of kc-long columns; rebuilt only when kc changes. */
    int[] lanes(int kc) {
      if (kc != lanesKc) {
        for (int l = 0; l < VLF; l++) {
          lanes[l] = l * kc;
        }
        lanesKc = kc;
      }
      return lanes;
    }
  }

  private static final ThreadLocal<Staging> STAGING = ThreadLocal.withInitial(Staging::new);

  /*
   * Rotations by VL/2, VL/4, VL/8 and VL/16 lanes (those beyond the vector length unused): a fixed tree of
   * lanewise adds for finishDot. Separate constants, not an array: the JFR profile of conv4 showed a loop
   * over an array of shuffles falling back to the Vector API's Java implementation (not intrinsified).
   */
  private static final VectorShuffle<Float> ROT_1 = rotation(VLF / 2);
  private static final VectorShuffle<Float> ROT_2 = rotation(VLF / 4);
  private static final VectorShuffle<Float> ROT_3 = rotation(VLF / 8);
  private static final VectorShuffle<Float> ROT_4 = rotation(VLF / 16);

  static {
    if (VLF > 16) {
      throw new ExceptionInInitializerError("VectorKernels: vectors of " + VLF + " floats (over 512 bits) are not"
          + " supported by the lane-sum tree");
    }
  }

  private static VectorShuffle<Float> rotation(int shift) {
    int d = Math.max(1, shift);
    return VectorShuffle.fromOp(FS, l -> (l + d) % VLF);
  }

  /**
   * A dot product's accumulator summed over its lanes by a fixed tree (rotate by VL/2 and add, then
   * VL/4, ...; lanewise adds, so the same bits every time), then its scalar tail q in [ub, kk).
   */
  private static float finishDot(FloatVector acc, float[] a, int x, float[] b, int y, int ub, int kk) {
    if (VLF >= 2) {
      acc = acc.add(acc.rearrange(ROT_1));
    }
    if (VLF >= 4) {
      acc = acc.add(acc.rearrange(ROT_2));
    }
    if (VLF >= 8) {
      acc = acc.add(acc.rearrange(ROT_3));
    }
    if (VLF >= 16) {
      acc = acc.add(acc.rearrange(ROT_4));
    }
    float s = acc.lane(0);
    for (int q = ub; q < kk; q++) {
      s = Math.fma(a[x + q], b[y + q], s);
    }
    return s;
  }

  @Override
  void tileF(float[] pa, int pao, float[] pb, int pbo, int kc, float[] c, int co, int ldc) {
    if (WIDE) {
      VectorLoops.tileWF(pa, pao, pb, pbo, kc, c, co, ldc);
    } else {
      VectorLoops.tileF(pa, pao, pb, pbo, kc, c, co, ldc);
    }
  }

  @Override
  void tileEdgeF(float[] pa, int pao, float[] pb, int pbo, int kc, float[] t) {
    if (WIDE) {
      VectorLoops.tileEdgeWF(pa, pao, pb, pbo, kc, t);
    } else {
      VectorLoops.tileEdgeF(pa, pao, pb, pbo, kc, t);
    }
  }

  @Override
  void tilePF(float[] pa, int pao, float[] pb, int pbo, int kc, float[] c, int co, int ldc) {
    if (WIDE) {
      // aLanesF() is 1 here: the "pre-broadcast" panel is an ordinary one.
      VectorLoops.tileWF(pa, pao, pb, pbo, kc, c, co, ldc);
    } else {
      VectorLoops.tilePF(pa, pao, pb, pbo, kc, c, co, ldc);
    }
  }

  @Override
  void tileEdgePF(float[] pa, int pao, float[] pb, int pbo, int kc, float[] t) {
    if (WIDE) {
      VectorLoops.tileEdgeWF(pa, pao, pb, pbo, kc, t);
    } else {
      VectorLoops.tileEdgePF(pa, pao, pb, pbo, kc, t);
    }
  }

  @Override
  void tileEdgeF(boolean pre, float[] pa, int pao, float[] pb, int pbo, int kc, float[] t, int mv, int nv) {
    if (WIDE) {
      // One panel layout for both (aLanesF() is 1): the 4-row and half-width kernels skip the unused part.
      VectorLoops.tileEdgeWF(pa, pao, pb, pbo, kc, t, mv, nv);
    } else if (pre) {
      VectorLoops.tileEdgePF(pa, pao, pb, pbo, kc, t, mv, nv);
    } else {
      VectorLoops.tileEdgeF(pa, pao, pb, pbo, kc, t);
    }
  }

  @Override
  void tilePRowsF(float[] pa, int pao, float[] src, int[] ro, int roo, int bo, int kc, float[] pb, float[] c, int co,
      int ldc) {
    if (WIDE) {
      VectorLoops.tileWRF(pa, pao, src, ro, roo, bo, kc, c, co, ldc);
    } else {
      VectorLoops.tilePRF(pa, pao, src, ro, roo, bo, kc, c, co, ldc);
    }
  }

  @Override
  void tileEdgePRowsF(float[] pa, int pao, float[] src, int[] ro, int roo, int bo, int kc, float[] pb, float[] t,
      int mv, int nv) {
    if (WIDE) {
      VectorLoops.tileEdgeWRF(pa, pao, src, ro, roo, bo, kc, t, mv, nv);
    } else {
      VectorLoops.tileEdgePRF(pa, pao, src, ro, roo, bo, kc, t, mv, nv);
    }
  }

  @Override
  void tileARowsF(float[] src, int[] ro, int roo, int ao, float[] pb, int pbo, int kc, float[] pa, float[] c, int co,
      int ldc) {
    if (WIDE) {
      VectorLoops.tileWARF(src, ro, roo, ao, pb, pbo, kc, c, co, ldc);
    } else if (panelByTable) {
      VectorLoops.tileARRF(src, ro, roo, ao, pb, PANEL_ROWS, 0, pbo, kc, c, co, ldc);
    } else {
      VectorLoops.tileARF(src, ro, roo, ao, pb, pbo, kc, c, co, ldc);
    }
  }

  @Override
  void tileEdgeARowsF(float[] src, int[] ro, int roo, int ao, float[] pb, int pbo, int kc, float[] pa, float[] t) {
    if (WIDE) {
      VectorLoops.tileEdgeWARF(src, ro, roo, ao, pb, pbo, kc, t);
    } else if (panelByTable) {
      VectorLoops.tileEdgeARRF(src, ro, roo, ao, pb, PANEL_ROWS, 0, pbo, kc, t);
    } else {
      VectorLoops.tileEdgeARF(src, ro, roo, ao, pb, pbo, kc, t);
    }
  }

  @Override
  boolean inPlaceRowsF() {
    return true;
  }

  /**
   * The 6-row (AVX2) set reads A's rows in place: its pre-broadcast panels of a conv4 weight (64 x 576) are
   * 1.2 MB, past L2, and its broadcasts from per-row streams compile to memory broadcasts (in L1: 110 GFLOP/s
   * per core where the packed plain panel's broadcasts ran at 47, on a Zen 4 core with 256-bit vectors).
   * Measured on conv4's second layer, 75 images, one thread, forward and all gradients (JMH Conv2dBench,
   * -XX:UseAVX=2, two alternations): 56.0 / 55.4 ms with W packed pre-broadcast, 46.3 / 46.8 ms in place.
   * The single-matrix GEMM path packs A row by row for the same kernels on JDK 25 ({@link #rowsAGemmF}).
   */
  @Override
  boolean inPlaceAF() {
    return !WIDE;
  }

  @Override
  void tileARRowsF(float[] as, int[] aro, int aroo, int ao, float[] bs, int[] bro, int broo, int bo, int kc, float[] c,
      int co, int ldc) {
    VectorLoops.tileARRF(as, aro, aroo, ao, bs, bro, broo, bo, kc, c, co, ldc);
  }

  @Override
  void tileEdgeARRowsF(float[] as, int[] aro, int aroo, int ao, float[] bs, int[] bro, int broo, int bo, int kc,
      float[] t, int mv, int nv) {
    VectorLoops.tileEdgeARRF(as, aro, aroo, ao, bs, bro, broo, bo, kc, t, mv, nv);
  }

  @Override
  void tileD(double[] pa, int pao, double[] pb, int pbo, int kc, double[] c, int co, int ldc) {
    if (WIDE) {
      VectorLoops.tileWD(pa, pao, pb, pbo, kc, c, co, ldc);
    } else {
      VectorLoops.tileD(pa, pao, pb, pbo, kc, c, co, ldc);
    }
  }

  @Override
  void tileEdgeD(double[] pa, int pao, double[] pb, int pbo, int kc, double[] t) {
    if (WIDE) {
      VectorLoops.tileEdgeWD(pa, pao, pb, pbo, kc, t);
    } else {
      VectorLoops.tileEdgeD(pa, pao, pb, pbo, kc, t);
    }
  }
}
