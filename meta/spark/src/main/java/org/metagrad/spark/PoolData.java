package org.metagrad.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.metagrad.meta.data.CharacterId;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotSet;

/**
 * A decoded image pool as plain arrays, shipped once to every executor as a Spark broadcast (not decoded
 * from PNG per task): each class's id and its images' pixels, exactly the floats the driver decoded.
 */
final class PoolData implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String key = java.util.UUID.randomUUID().toString();
  private final int side;
  private final String[] sets;
  private final String[] alphabets;
  private final String[] characters;
  private final float[][] pixels;

  private PoolData(int side, String[] sets, String[] alphabets, String[] characters, float[][] pixels) {
    this.side = side;
    this.sets = sets;
    this.alphabets = alphabets;
    this.characters = characters;
    this.pixels = pixels;
  }

  /** The arrays of a pool. */
  static PoolData of(ImageClasses pool) {
    int n = pool.size();
    int per = pool.side() * pool.side();
    String[] sets = new String[n];
    String[] alphabets = new String[n];
    String[] characters = new String[n];
    float[][] px = new float[n][];
    for (int c = 0; c < n; c++) {
      CharacterId id = pool.id(c);
      sets[c] = id.set().name();
      alphabets[c] = id.alphabet();
      characters[c] = id.character();
      int count = pool.imageCount(c);
      px[c] = new float[count * per];
      for (int i = 0; i < count; i++) {
        pool.copyImage(c, i, 0, px[c], i * per);
      }
    }
    return new PoolData(pool.side(), sets, alphabets, characters, px);
  }

  /** The pool again (sharing these arrays). */
  ImageClasses toImageClasses() {
    List<CharacterId> ids = new ArrayList<>(sets.length);
    List<float[]> px = new ArrayList<>(sets.length);
    for (int c = 0; c < sets.length; c++) {
      ids.add(new CharacterId(OmniglotSet.valueOf(sets[c]), alphabets[c], characters[c]));
      px.add(pixels[c]);
    }
    return ImageClasses.of(side, ids, px);
  }

  /**
   * A key unique to this pool (executor caches use it: broadcast ids restart with every Spark context, and in
   * local mode the executors' caches outlive a context).
   */
  String key() {
    return key;
  }

  /** The pixel payload in bytes. */
  long bytes() {
    long b = 0;
    for (float[] p : pixels) {
      b += 4L * p.length;
    }
    return b;
  }
}
