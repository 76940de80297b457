package org.metagrad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.metagrad.spi.ConvGeometry;

/**
 * Every backward rule, in one place, written with tensor ops only: with {@code createGraph} the
 * gradient is itself recorded and can be differentiated again. The switch is exhaustive with no
 * default, so a new primitive without a rule does not compile. A rule may read the values only of the
 * inputs (and output) that {@link Node#saved} lists for its op: the graph keeps no others (reading one is an
 * IllegalStateException); change both together.
 */
final class Derivatives {
  private Derivatives() {}

  /** Gradients of the node's inputs given the gradient {@code g} of its output (null: no gradient). */
  static List<Tensor> backward(Node n, Tensor g) {
    Tensor x = n.in(0);
    return switch (n.op) {
      case NEG -> List.of(g.neg());
      case EXP -> List.of(g.mul(n.out()));
      case LOG -> List.of(g.div(x));
      case SQRT -> List.of(g.div(n.out().mul(2.0)));
      case TANH -> List.of(g.mul(n.out().mul(n.out()).neg().add(1.0)));
      case POW -> {
        double p = (Double) n.attr;
        yield List.of(p == 0 ? g.mul(0.0) : g.mul(x.pow(p - 1).mul(p)));
      }
      case ADD -> pair(n.need(0) ? g.sumTo(x.shapeRef()) : null, n.need(1) ? g.sumTo(n.in(1).shapeRef()) : null);
      // Negations after the reduction to a broadcast operand's shape (a batch mean, a variance): the same
      // values (negation is exact and commutes with the sum), on the small tensor instead of the full one.
      case SUB -> pair(n.need(0) ? g.sumTo(x.shapeRef()) : null, n.need(1) ? g.sumTo(n.in(1).shapeRef()).neg() : null);
      case MUL -> pair(n.need(0) ? g.mul(n.in(1)).sumTo(x.shapeRef()) : null,
          n.need(1) ? g.mul(x).sumTo(n.in(1).shapeRef()) : null);
      case DIV -> pair(n.need(0) ? g.div(n.in(1)).sumTo(x.shapeRef()) : null,
          n.need(1) ? g.mul(n.out()).div(n.in(1)).sumTo(n.in(1).shapeRef()).neg() : null);
      case WHERE -> {
        Tensor zero = g.scalarLike(0);
        Tensor c = n.in(0);
        yield Arrays.asList(null, n.need(1) ? Tensor.where(c, g, zero).sumTo(n.in(1).shapeRef()) : null,
            n.need(2) ? Tensor.where(c, zero, g).sumTo(n.in(2).shapeRef()) : null);
      }
      case SUM -> List.of(keptGrad(n, g).expand(x.shapeRef()));
      case MAX -> {
        Tensor.ReduceAttr a = (Tensor.ReduceAttr) n.attr;
        Tensor outKept = a.keepDim() ? n.out().detach() : n.out().detach().reshape(keptShape(x, a.dims()));
        Tensor mask = x.eq(outKept);
        Tensor count = mask.sum(a.dims(), true);
        // Dividing the reduced-shape gradient by the count before broadcasting it against the mask
        // saves a full-size pass; the mask is exactly 0 or 1, so the values are bit-identical.
        yield List.of(keptGrad(n, g).div(count).mul(mask));
      }
      case RESHAPE -> List.of(g.reshape(x.shapeRef()));
      case PERMUTE -> {
        int[] p = (int[]) n.attr;
        int[] inv = new int[p.length];
        for (int i = 0; i < p.length; i++) {
          inv[p[i]] = i;
        }
        yield List.of(g.permute(inv));
      }
      case EXPAND -> List.of(g.sumTo(x.shapeRef()));
      case SLICE -> {
        int[] a = (int[]) n.attr;
        int r = x.rank();
        int[] before = new int[r];
        int[] after = new int[r];
        before[a[0]] = a[1];
        after[a[0]] = x.shapeRef()[a[0]] - a[2];
        yield List.of(g.pad(before, after));
      }
      case PAD -> {
        int[][] a = (int[][]) n.attr;
        Tensor s = g;
        for (int d = 0; d < x.rank(); d++) {
          s = s.slice(d, a[0][d], a[0][d] + x.shapeRef()[d]);
        }
        yield List.of(s);
      }
      case CONCAT -> {
        int dim = (Integer) n.attr;
        List<Tensor> out = new ArrayList<>(n.inputs.length);
        int start = 0;
        for (Tensor in : n.inputs) {
          int len = in.shapeRef()[dim];
          out.add(in.requiresGrad() ? g.slice(dim, start, start + len) : null);
          start += len;
        }
        yield out;
      }
      case MATMUL -> pair(n.need(0) ? leftMatmulGrad(n, g) : null,
          n.need(1) ? x.mT().matmul(g).sumTo(n.in(1).shapeRef()) : null);
      case UNFOLD -> List.of(g.fold((ConvGeometry) n.attr));
      case FOLD -> List.of(g.unfold((ConvGeometry) n.attr));
      case CAST -> List.of(g.to(x.dtype()));
      case TRANSFER -> List.of(g.to(x.device()));
      // Recorded backward (the gradient will be differentiated again): the composite's own VJP, or a closed
      // form of it, in primitives, so every order is exact; otherwise the fused kernel.
      case FUSED -> Autograd.isEnabled() ? ((Fused) n.attr).recordedBackward(n, g) : ((Fused) n.attr).backward(n, g);
    };
  }

  /**
   * Gradient of a matmul's left operand. A matrix shared by a batch (a conv weight, rank 2, against
   * [B, K, N] columns) gets {@code sum_p g[p] @ in1[p]^T}; when the gradient is not recorded the
   * backend computes that sum in one pass instead of B products and a reduction over the batch.
   */
  private static Tensor leftMatmulGrad(Node n, Tensor g) {
    Tensor x = n.in(0);
    Tensor b = n.in(1);
    if (!Autograd.isEnabled() && x.rank() == 2 && g.rank() == 3 && b.rank() == 3
        && g.shapeRef()[0] == b.shapeRef()[0]) {
      return g.matmulSumBatch(b.mT());
    }
    return g.matmul(b.mT()).sumTo(x.shapeRef());
  }

  /** Two input gradients, either of which may be null (input needs no gradient). */
  private static List<Tensor> pair(Tensor a, Tensor b) {
    return Arrays.asList(a, b);
  }

  private static int[] keptShape(Tensor x, int[] dims) {
    int[] k = x.shape();
    for (int d : dims) {
      k[d] = 1;
    }
    return k;
  }

  /** The output gradient reshaped to keep reduced dims as size 1. */
  private static Tensor keptGrad(Node n, Tensor g) {
    Tensor.ReduceAttr a = (Tensor.ReduceAttr) n.attr;
    return a.keepDim() ? g : g.reshape(keptShape(n.in(0), a.dims()));
  }
}
