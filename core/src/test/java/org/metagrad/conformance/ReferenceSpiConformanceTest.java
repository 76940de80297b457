package org.metagrad.conformance;

import org.metagrad.spi.Backend;
import org.metagrad.spi.ReferenceBackend;

/** The SPI-level suite run on the reference backend itself: checks the suite (its inputs, its comparisons). */
class ReferenceSpiConformanceTest extends AbstractSpiConformanceTest {
  @Override
  protected Backend backend(int threads) {
    return ReferenceBackend.INSTANCE;
  }
}
