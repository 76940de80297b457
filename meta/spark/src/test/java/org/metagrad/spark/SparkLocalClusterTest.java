package org.metagrad.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The contract in {@code local-cluster[2,1,1024]} mode: a master and two workers in this JVM, each worker
 * launching one executor JVM (1 core, 1 GiB), so parameters, pools and gradients really cross processes.
 */
class SparkLocalClusterTest extends SparkTrainingContract {
  @BeforeAll
  static void startSpark() {
    start("local-cluster[2,1,1024]");
  }

  @Override
  int partitions() {
    return 2;
  }


  @Test
  void theExecutorsAreTwoOtherProcesses() {
    List<Long> pids = sc.parallelize(List.of(0, 1, 2, 3, 4, 5, 6, 7), 8)
        .map(x -> ProcessHandle.current().pid()).distinct().collect();
    assertThat(pids).hasSize(2).doesNotContain(ProcessHandle.current().pid());
  }
}
