package org.metagrad.meta.train;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.algo.Mann;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.RotationMode;

class MannTimingScratchTest {
  @Test
  void time(@TempDir Path tmp) {
    String[] ctl = System.getProperty("mann.ctl", "mann").split(",");
    for (String cs : ctl) {
      TrainConfig base = TrainConfig.builder().algorithm(Algorithm.MANN).data(DataPaths.root()).split("vinyals")
          .rotation(RotationMode.AS_NEW_CLASSES).side(Integer.getInteger("mann.side", 20))
          .hidden(Integer.getInteger("mann.hidden", 200)).ways(5).testWays(5)
          .iterations(Integer.getInteger("mann.it", 20)).metaBatch(Integer.getInteger("mann.mb", 2))
          .outerLr(Double.parseDouble(System.getProperty("mann.lr", "1e-3"))).valEvery(0).valEpisodes(20)
          .testEpisodes(50).threads(2).checkpointEvery(0).clipNorm(10).seed(1).out(tmp.resolve(cs)).build();
      MannConfig mc = new MannConfig(base, Mann.Controller.parse(cs), Mann.Labels.ONE_HOT, 10,
          Integer.getInteger("mann.ep", 8), Integer.getInteger("mann.slots", 128), 40, 4, 0.95);
      new MannExperiment(mc, System.out, null).run(false, false);
    }
  }
}
