package org.metagrad.meta.cli;

import java.util.Arrays;
import java.util.Iterator;
import org.metagrad.meta.train.Algorithm;

/** The algorithm names, for picocli's {@code ${COMPLETION-CANDIDATES}} in help texts. */
public final class AlgorithmNames implements Iterable<String> {
  /** Iterates over the command-line names of {@link Algorithm}, then the semi-/self-supervised methods'. */
  @Override
  public Iterator<String> iterator() {
    return java.util.stream.Stream.concat(Arrays.stream(Algorithm.values()).map(Algorithm::cliName),
        Arrays.stream(org.metagrad.meta.semi.SemiMethod.values()).map(org.metagrad.meta.semi.SemiMethod::cliName))
        .iterator();
  }
}
