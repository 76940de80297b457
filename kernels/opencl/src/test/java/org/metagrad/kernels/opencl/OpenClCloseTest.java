package org.metagrad.kernels.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * Closing a backend releases its context and makes every later call a clear error. A context of its own is
 * opened here (the other tests share the factory's backend of device 0, which must stay open).
 */
class OpenClCloseTest {

  @Test
  void aClosedBackendRefusesWorkAndClosingTwiceDoesNothing() {
    OpenClTestSupport.backend();   // skips (or fails in CI) without OpenCL
    OpenClPlatforms.Entry e = OpenClPlatforms.devices().get(0);
    OpenClBackend own = new OpenClBackend(Device.openCl(0), e.platform(), e.device(), e.deviceName());
    Buffer a = own.upload(new float[] {0, 1, 2});
    Buffer y = own.unary(UnaryOp.NEG, 0, View.contiguous(a, 3));
    assertThat(own.downloadFloat(View.contiguous(y, 3))).containsExactly(-0f, -1f, -2f);
    own.close();
    assertThat(own.isClosed()).isTrue();
    assertThatThrownBy(() -> own.upload(new float[] {1})).isInstanceOf(BackendException.class)
        .hasMessageContaining("is closed");
    assertThatThrownBy(() -> own.unary(UnaryOp.NEG, 0, View.contiguous(a, 3))).isInstanceOf(BackendException.class)
        .hasMessageContaining("is closed");
    assertThatThrownBy(() -> own.full(DType.FLOAT32, 2, 1)).isInstanceOf(BackendException.class);
    own.close();
    a.release();   // a buffer of a closed context can still be released
    // The factory's shared backend of the same device is a different context and still works.
    assertThat(OpenClTestSupport.backend().isClosed()).isFalse();
  }
}
