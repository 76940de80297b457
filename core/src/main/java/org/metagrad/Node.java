package org.metagrad;

/**
 * One recorded application of a primitive: its inputs, its attribute (exponent, dims, geometry...) and
 * its output. Immutable after the output is attached.
 */
final class Node {
  final Op op;
  final Tensor[] inputs;
  final Object attr;
  Tensor out;

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
}
