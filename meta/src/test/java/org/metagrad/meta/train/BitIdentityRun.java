package org.metagrad.meta.train;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.Maml;
import org.metagrad.meta.algo.MetaLearner;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.algo.ProtoNet;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;

/**
 * The child process of {@code TwoJvmBitIdentityTest}: a few meta-iterations of a conv ProtoNet and of
 * second-order MAML on synthetic 5-way tasks (logits of 25 x 5, so softmax's exp and log take the vector
 * loops), printing every iteration's loss and accuracy bits and a SHA-256 of every final parameter's
 * bits. Arguments: comma-separated iteration counts (one training from scratch each), how many warm-up calls of the float32 transcendental ops to make first (a
 * long run's JIT state: C2 compiles the kernels after a few thousand calls), and optionally
 * {@code protonet} to skip MAML (for the slow {@code -Xint} run).
 */
public final class BitIdentityRun {
  private BitIdentityRun() {}

  /**
   * Runs the trainings and prints their bits to stdout.
   *
   * @param args iteration counts, warm-up calls, optionally {@code protonet}
   */
  public static void main(String[] args) throws Exception {
    int warmUp = Integer.parseInt(args[1]);
    boolean withMaml = args.length < 3 || !args[2].equals("protonet");
    if (warmUp > 0) {
      warmUp(warmUp);
    }
    for (String its : args[0].split(",")) {
      int iterations = Integer.parseInt(its);
      Network proto = Backbones.conv4(1, 2, 16, 0, BnMode.BATCH_STATS);
      train("protonet@" + iterations, ProtoNet.euclidean(proto), proto, iterations);
      if (withMaml) {
        Network maml = Backbones.conv4(1, 2, 16, 5, BnMode.BATCH_STATS);
        train("maml2@" + iterations, new Maml(maml, 1, 0.1, Order.SECOND), maml, iterations);
      }
    }
  }

  private static void train(String name, MetaLearner learner, Network net, int iterations) throws Exception {
    MetaTrainer.Options o = MetaTrainer.Options.of(iterations, 2).threads(2);
    MetaTrainer t = new MetaTrainer(learner, new SyntheticTasks(5, 1, 5, 16, 11), Adam.of(3e-3),
        LrSchedule.cosine(3e-3, 1e-4, iterations, 0), o);
    MetaTrainer.Result r = t.train(net.init(new Rng(5), DType.FLOAT32), null, null, null);
    for (MetaTrainer.Row row : r.history()) {
      System.out.printf("%s iteration %d loss %016x accuracy %016x%n", name, row.iteration(),
          Double.doubleToRawLongBits(row.loss()), Double.doubleToRawLongBits(row.accuracy()));
    }
    Params p = r.last();
    for (String n : p.names()) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (float v : p.get(n).toFloatArray()) {
        md.update(ByteBuffer.allocate(4).putInt(Float.floatToRawIntBits(v)).array());
      }
      System.out.printf("%s param %s %s%n", name, n, HexFormat.of().formatHex(md.digest()));
    }
  }

  /**
   * Many calls of every float32 unary op on 1031 elements (the vector loops), on 5 (the scalar tails) and
   * of softmax on 25 x 5 logits: C2 then compiles the kernels with the profile of a long run (warming only
   * exp and log made C2 deoptimise at the first other op, and the trainings ran interpreted again).
   */
  private static void warmUp(int calls) {
    Rng rng = new Rng(1);
    float[] v = new float[1031];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (8 * rng.nextDouble() - 4);
    }
    Tensor logits = Tensor.of(java.util.Arrays.copyOf(v, 125), 25, 5);
    for (Tensor x : new Tensor[] {Tensor.of(v, v.length), Tensor.of(java.util.Arrays.copyOf(v, 5), 5)}) {
      Tensor pos = x.abs().add(1e-3);
      for (int c = 0; c < calls; c++) {
        x.neg();
        x.exp();
        pos.log();
        pos.sqrt();
        x.tanh();
        x.pow(2);
        pos.pow(-0.5);
        x.sign();
        F.logSoftmax(logits, 1);
      }
    }
  }
}
