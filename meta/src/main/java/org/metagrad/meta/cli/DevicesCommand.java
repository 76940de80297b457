package org.metagrad.meta.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import org.metagrad.Device;
import org.metagrad.spi.Backends;
import picocli.CommandLine.Command;

/** Lists the devices Metagrad can use here and the CPU backend it picked. */
@Command(name = "devices", mixinStandardHelpOptions = true,
    description = "List the available devices (CPU backend, OpenCL and CUDA devices) and exit.")
public final class DevicesCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    for (Map.Entry<Device, String> e : Backends.listDevices().entrySet()) {
      System.out.println(e.getKey() + "\t" + e.getValue());
    }
    // Kinds with no device say why not (no driver, no GPU, module missing), so a user sees why cuda:0 is absent.
    for (Map.Entry<String, String> e : Backends.unavailableDevices().entrySet()) {
      System.out.println(e.getKey() + "\tunavailable: " + e.getValue());
    }
    return 0;
  }
}
