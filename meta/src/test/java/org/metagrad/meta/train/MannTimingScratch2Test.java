package org.metagrad.meta.train;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.Mann;
import org.metagrad.nn.Params;

class MannTimingScratch2Test {
  @Test
  void time() {
    System.out.println("backend " + org.metagrad.Metagrad.cpuBackend().name());
    for (String cs : new String[] {"mann", "lstm"}) {
      for (int b : new int[] {4, 16, 32}) {
        Mann m = new Mann(Mann.Config.paper(400, 5).controller(Mann.Controller.parse(cs)));
        Params p = m.init(new Rng(1), DType.FLOAT32).requiresGrad(true);
        Rng rng = new Rng(2);
        int[][] ys = new int[b][50];
        int[][] codes = new int[b][];
        int[][] inst = new int[b][50];
        for (int e = 0; e < b; e++) {
          codes[e] = new int[] {0, 1, 2, 3, 4};
          for (int s = 0; s < 50; s++) {
            ys[e][s] = s % 5;
            inst[e][s] = s / 5 + 1;
          }
        }
        Mann.Batch batch = new Mann.Batch(Tensor.rand(rng, DType.FLOAT32, 50, b, 400), ys, codes, inst);
        for (int rep = 0; rep < 3; rep++) {
          long t0 = System.nanoTime();
          Tensor loss = m.run(p, batch).loss();
          long t1 = System.nanoTime();
          List<Tensor> g = Autograd.grad(loss, p.values(), GradOptions.defaults());
          long t2 = System.nanoTime();
          System.out.printf("%s B=%d fwd %.0f ms bwd %.0f ms%n", cs, b, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
        }
      }
    }
  }
}
