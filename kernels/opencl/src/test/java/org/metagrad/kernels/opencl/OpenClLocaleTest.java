package org.metagrad.kernels.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * Kernel names are built from the op enums' names: under a Turkish default locale {@code "DIV".toLowerCase()}
 * is {@code "dıv"} (dotless i) and no such kernel exists. Every unary, binary and reduce op must run under it.
 */
class OpenClLocaleTest {

  @Test
  void everyElementwiseAndReduceOpRunsUnderATurkishDefaultLocale() {
    Backend cl = OpenClTestSupport.backend();
    Backend ref = ReferenceBackend.INSTANCE;
    Locale before = Locale.getDefault();
    Locale.setDefault(Locale.forLanguageTag("tr-TR"));
    try {
      assertThat("DIV".toLowerCase()).as("the locale really changes lower-casing").isEqualTo("d\u0131v");
      double[] a = {0.5, 1.5, 2.0, 3.25, 4.0, 0.75};
      double[] b = {1.0, 0.5, 2.0, 4.0, 3.0, 0.25};
      for (DType dt : DType.values()) {
        if (!cl.supports(dt)) {
          continue;
        }
        View ca = View.contiguous(cl.upload(a, dt), 2, 3);
        View cb = View.contiguous(cl.upload(b, dt), 2, 3);
        View ra = View.contiguous(ref.upload(a, dt), 2, 3);
        View rb = View.contiguous(ref.upload(b, dt), 2, 3);
        for (UnaryOp op : UnaryOp.values()) {
          assertSame(op + " " + dt, ref, ref.unary(op, 2.0, ra), cl, cl.unary(op, 2.0, ca));
        }
        for (BinaryOp op : BinaryOp.values()) {
          assertSame(op + " " + dt, ref, ref.binary(op, ra, rb), cl, cl.binary(op, ca, cb));
        }
        for (ReduceOp op : ReduceOp.values()) {
          assertSame(op + " " + dt, ref, ref.reduce(op, ra, new int[] {2, 1}), cl, cl.reduce(op, ca, new int[] {2, 1}));
        }
      }
    } finally {
      Locale.setDefault(before);
    }
  }

  private static void assertSame(String what, Backend ref, Buffer r, Backend cl, Buffer c) {
    double[] want = ref.downloadDouble(View.contiguous(r, r.size()));
    double[] got = cl.downloadDouble(View.contiguous(c, c.size()));
    assertThat(got).as(what).hasSize(want.length);
    for (int i = 0; i < want.length; i++) {
      assertThat(got[i]).as(what + " [" + i + "]").isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-5 * (1 + Math.abs(want[i]))));
    }
  }
}
