package org.metagrad.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.Checkpoint;
import org.metagrad.nn.io.NamedArray;
import org.metagrad.nn.io.SafeTensors;

/**
 * Named float tensors as safetensors bytes and back, bit for bit: what the driver broadcasts (parameters)
 * and what executors send back (per-task gradients). Tensors are stored by position ({@code t00000, ...})
 * with their names in order in the metadata, so the order survives whatever order the header lists them in.
 */
final class TensorBytes {
  private static final String NAMES = "metagrad.names";

  private TensorBytes() {}

  /** The safetensors bytes of {@code tensors} under {@code names} (float32 or float64). */
  static byte[] encode(List<String> names, List<Tensor> tensors) {
    if (names.size() != tensors.size()) {
      throw new IllegalArgumentException("TensorBytes: " + names.size() + " names for " + tensors.size() + " tensors");
    }
    List<NamedArray> arrays = new ArrayList<>(tensors.size());
    for (int i = 0; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      Tensor host = t.device().equals(Device.cpu()) ? t : t.to(Device.cpu());
      long[] shape = Arrays.stream(host.shape()).asLongStream().toArray();
      String key = key(i);
      arrays.add(host.dtype() == DType.FLOAT32 ? NamedArray.fromFloats(key, shape, host.toFloatArray())
          : NamedArray.fromDoubles(key, shape, host.toDoubleArray()));
    }
    return SafeTensors.toBytes(arrays, Map.of(NAMES, String.join("\n", names)));
  }

  /** {@link #encode} of a parameter set. */
  static byte[] encode(Params p) {
    return encode(p.names(), p.values());
  }

  /** The tensors of {@link #encode}'s bytes, in their order. */
  static List<Tensor> decodeList(byte[] bytes) {
    Checkpoint c = SafeTensors.fromBytes(bytes);
    int n = names(c).size();
    List<Tensor> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(toTensor(c.get(key(i))));
    }
    return out;
  }

  /** The parameter set of {@link #encode(Params)}'s bytes, in its order. */
  static Params decodeParams(byte[] bytes) {
    Checkpoint c = SafeTensors.fromBytes(bytes);
    List<String> names = names(c);
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      m.put(names.get(i), toTensor(c.get(key(i))));
    }
    return Params.of(m);
  }

  private static List<String> names(Checkpoint c) {
    String s = c.metadata().get(NAMES);
    if (s == null) {
      throw new IllegalArgumentException("TensorBytes: no '" + NAMES + "' metadata");
    }
    return s.isEmpty() ? List.of() : List.of(s.split("\n", -1));
  }

  private static String key(int i) {
    return String.format(java.util.Locale.ROOT, "t%05d", i);
  }

  private static Tensor toTensor(NamedArray a) {
    int[] shape = Arrays.stream(a.shape()).mapToInt(Math::toIntExact).toArray();
    return switch (a.dtype()) {
      case F32 -> {
        float[] f = a.toFloats();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
          d[i] = f[i];   // exact: every float is a double
        }
        yield Tensor.of(d, DType.FLOAT32, shape);
      }
      case F64 -> Tensor.of(a.toDoubles(), DType.FLOAT64, shape);
      default -> throw new IllegalArgumentException("TensorBytes: tensor '" + a.name() + "' has dtype " + a.dtype());
    };
  }
}
