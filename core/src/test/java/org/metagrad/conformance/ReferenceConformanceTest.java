package org.metagrad.conformance;

import org.metagrad.spi.Backend;
import org.metagrad.spi.ReferenceBackend;

/** The suite run on the reference backend itself: checks the suite (and gradcheck on the oracle). */
class ReferenceConformanceTest extends AbstractBackendConformanceTest {
  @Override
  protected Backend cpuBackend() {
    return ReferenceBackend.INSTANCE;
  }
}
