package org.metagrad;

import org.metagrad.spi.Buffer;

/**
 * One recorded application of a primitive: its inputs, its attribute (exponent, dims, geometry...) and
 * its output. Immutable after the output is attached.
 *
 * <p>A node keeps the values only of the tensors its backward rule in {@link Derivatives} reads (see
 * {@link #saved}); every other recorded input, and the output where the rule does not read it, is held as
 * a {@link Tensor#graphRef() graph reference}: the same vertex (node, shape, dtype, device) without the
 * buffer, so an intermediate nobody needs for a gradient is collected once the caller drops it, as in
 * PyTorch's saved tensors. Leaves that require a gradient are always held as themselves (they are what
 * {@link Autograd#grad} is asked about).
 */
final class Node {
  final Op op;
  final Tensor[] inputs;
  final Object attr;
  Tensor out;

  /** {@code inputs} must be a fresh array: {@link #record} replaces entries of it with graph references. */
  Node(Op op, Tensor[] inputs, Object attr) {
    this.op = op;
    this.inputs = inputs;
    this.attr = attr;
  }

  Tensor in(int i) {
    return inputs[i];
  }

  /** Whether input i wants a gradient (constants such as masks do not). */
  boolean need(int i) {
    return inputs[i].requiresGrad();
  }

  Tensor out() {
    return out;
  }

  /**
   * Whether the backward rule of {@code op} reads the value of input {@code i} (given which inputs want
   * a gradient), or with {@code i == -1} the value of the output. Must cover every read in
   * {@link Derivatives#backward} and in the {@link Fused} backward paths; shapes, dtypes, devices and
   * requiresGrad of a released tensor stay readable.
   */
  static boolean saved(Op op, Tensor[] in, int i) {
    return switch (op) {
      case NEG, ADD, SUB, SUM, RESHAPE, PERMUTE, EXPAND, SLICE, PAD, CONCAT, UNFOLD, FOLD, CAST, TRANSFER -> false;
      case EXP, SQRT, TANH -> i == -1;
      case LOG, POW -> i == 0;
      // d(a*b)/da = b and d(a@b)/da uses b: one operand's value is read only for the other's gradient.
      case MUL, MATMUL -> i >= 0 && in[1 - i].requiresGrad();
      // g / b for a; g * out / b for b: b always, out only when b wants a gradient, a never.
      case DIV -> i == 1 || i == -1 && in[1].requiresGrad();
      case WHERE -> i == 0;
      case MAX -> i <= 0;
      case FUSED -> true;
    };
  }

  /** Prunes the freshly recorded output {@code t}'s node to the values its rule reads; returns t. */
  static Tensor record(Tensor t) {
    Node n = t.node;
    Tensor[] in = n.inputs;
    for (int i = 0; i < in.length; i++) {
      boolean gradLeaf = in[i].node == null && in[i].requiresGrad();
      if (!gradLeaf && !saved(n.op, in, i)) {
        in[i] = in[i].graphRef();
      }
    }
    if (!saved(n.op, in, -1)) {
      n.out = t.graphRef();
    }
    return t;
  }

  /**
   * The buffer of a tensor whose values a node does not keep: dtype, device and size only. Handing it to a
   * kernel is a bug in a backward rule or in {@link #saved}.
   */
  static final class Released implements Buffer {
    private final DType dtype;
    private final Device device;
    private final int size;

    Released(Buffer of) {
      this.dtype = of.dtype();
      this.device = of.device();
      this.size = of.size();
    }

    @Override
    public DType dtype() {
      return dtype;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public Device device() {
      return device;
    }

    @Override
    public String toString() {
      return "released " + dtype + "[" + size + "] on " + device
          + " (a value the graph does not keep: see Node.saved)";
    }
  }
}
