package org.metagrad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A composite function recorded as one {@link Op#FUSED} node: the forward runs as one backend kernel,
 * and so does the backward when it is not recorded. When the backward is recorded (createGraph, so the
 * gradient will be differentiated again) the node records {@link #recordedBackward}: by default it rebuilds
 * its {@link #composite} from its inputs and returns the composite's vector-Jacobian product; a function may
 * instead record a closed form of the same product with fewer primitives (batch norm). Either way the
 * derivatives of every order are exactly the composite's: the fused kernels are an evaluation strategy,
 * never a new definition.
 */
interface Fused {
  /** The same function written with recorded primitives (the definition and the test oracle). */
  Tensor composite(Tensor[] inputs);

  /**
   * Gradients of the node's inputs (null where an input needs none) from the output gradient g, by the
   * fast kernel; only called with recording off.
   */
  List<Tensor> backward(Node n, Tensor g);

  /**
   * The vector-Jacobian product recorded with primitives (only called with recording on), so that it can
   * be differentiated again: the same function of the node's inputs and g as {@link #compositeGrad} (the
   * default, and the oracle in the tests of any override).
   */
  default List<Tensor> recordedBackward(Node n, Tensor g) {
    return compositeGrad(n, g);
  }

  /**
   * The recorded vector-Jacobian product of the composite at the node's inputs. Each input that wants a
   * gradient is replaced by a fresh identity alias, so the inner gradient is local to this node (an
   * input that is itself an ancestor of another input is not counted twice) while still connecting,
   * through the alias, to the outer graph.
   */
  static List<Tensor> compositeGrad(Node n, Tensor g) {
    Fused f = (Fused) n.attr;
    Tensor[] in = n.inputs.clone();
    List<Tensor> wrt = new ArrayList<>();
    for (int i = 0; i < in.length; i++) {
      if (n.need(i)) {
        in[i] = in[i].alias();
        wrt.add(in[i]);
      }
    }
    if (wrt.isEmpty()) {
      return Arrays.asList(new Tensor[in.length]);
    }
    Tensor y = f.composite(in);
    List<Tensor> gs = Autograd.grad(List.of(y), wrt,
        GradOptions.createGraph(true).allowUnused(true).outputGrads(List.of(g)));
    Tensor[] out = new Tensor[in.length];
    int j = 0;
    for (int i = 0; i < in.length; i++) {
      if (n.need(i)) {
        out[i] = gs.get(j++);
      }
    }
    return Arrays.asList(out);
  }
}
