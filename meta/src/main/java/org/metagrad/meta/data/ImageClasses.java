package org.metagrad.meta.data;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable in-memory set of image classes: for each class, its {@link CharacterId} and its
 * decoded images, each {@code side * side} floats, row-major.
 *
 * <p>Class {@code c}'s images are stored back to back; {@link #copyImage} copies one out (optionally
 * rotated) without allocating. {@link #select} makes a view on a subset that shares the pixel
 * arrays, so splitting a loaded set costs no memory. Instances are thread-safe.
 */
public final class ImageClasses {

  private final int side;
  private final List<CharacterId> ids;
  private final float[][] pixels;
  private final Map<CharacterId, Integer> index;

  private ImageClasses(int side, List<CharacterId> ids, float[][] pixels) {
    this.side = side;
    this.ids = List.copyOf(ids);
    this.pixels = pixels;
    this.index = new HashMap<>();
    for (int c = 0; c < this.ids.size(); c++) {
      if (index.put(this.ids.get(c), c) != null) {
        throw new IllegalArgumentException("ImageClasses: duplicate class " + this.ids.get(c));
      }
    }
  }

  /**
   * Builds a set from classes and their concatenated images; the arrays are taken over, not copied.
   *
   * @param side the image side (images are {@code side * side})
   * @param ids one id per class, distinct
   * @param pixels per class, {@code count * side * side} floats with {@code count >= 1}
   * @return the set
   * @throws IllegalArgumentException when sizes disagree, an id repeats or a class has no image
   */
  public static ImageClasses of(int side, List<CharacterId> ids, List<float[]> pixels) {
    if (side <= 0) {
      throw new IllegalArgumentException("ImageClasses: side must be positive, got " + side);
    }
    if (ids.size() != pixels.size()) {
      throw new IllegalArgumentException(
          "ImageClasses: " + ids.size() + " ids but " + pixels.size() + " pixel arrays");
    }
    int per = side * side;
    float[][] arr = new float[ids.size()][];
    for (int c = 0; c < arr.length; c++) {
      float[] p = pixels.get(c);
      if (p.length == 0 || p.length % per != 0) {
        throw new IllegalArgumentException(
            "ImageClasses: class " + ids.get(c) + " has " + p.length
                + " floats, expected a positive multiple of " + side + "*" + side);
      }
      arr[c] = p;
    }
    return new ImageClasses(side, ids, arr);
  }

  /** Concatenates sets of the same side, sharing their pixel arrays. */
  static ImageClasses concat(List<ImageClasses> parts) {
    List<CharacterId> ids = new ArrayList<>();
    List<float[]> px = new ArrayList<>();
    int side = parts.isEmpty() ? 1 : parts.get(0).side;
    for (ImageClasses p : parts) {
      if (p.side != side) {
        throw new IllegalArgumentException("ImageClasses.concat: sides " + side + " and " + p.side);
      }
      ids.addAll(p.ids);
      px.addAll(java.util.Arrays.asList(p.pixels));
    }
    return new ImageClasses(side, ids, px.toArray(new float[0][]));
  }

  /**
   * Returns the number of classes.
   *
   * @return the class count
   */
  public int size() {
    return ids.size();
  }

  /**
   * Returns the image side; every image has {@code side() * side()} floats.
   *
   * @return the side in pixels, e.g. 28
   */
  public int side() {
    return side;
  }

  /**
   * Returns the id of class {@code c}.
   *
   * @param c class index, {@code 0 <= c < size()}
   * @return the id
   */
  public CharacterId id(int c) {
    return ids.get(c);
  }

  /**
   * Returns all class ids in class-index order.
   *
   * @return an unmodifiable list of {@link #size()} ids
   */
  public List<CharacterId> ids() {
    return ids;
  }

  /**
   * Returns the class index of an id.
   *
   * @param id a class id
   * @return its index, or -1 when the set does not hold it
   */
  public int indexOf(CharacterId id) {
    Integer c = index.get(id);
    return c == null ? -1 : c;
  }

  /**
   * Returns how many images class {@code c} has.
   *
   * @param c class index
   * @return the image count, at least 1 (20 for Omniglot)
   */
  public int imageCount(int c) {
    return pixels[c].length / (side * side);
  }

  /**
   * Returns the smallest image count over all classes.
   *
   * @return the minimum, or 0 for an empty set
   */
  public int minImageCount() {
    int min = Integer.MAX_VALUE;
    for (int c = 0; c < pixels.length; c++) {
      min = Math.min(min, imageCount(c));
    }
    return pixels.length == 0 ? 0 : min;
  }

  /**
   * Returns the total number of images over all classes.
   *
   * @return the image count
   */
  public long totalImages() {
    long n = 0;
    for (int c = 0; c < pixels.length; c++) {
      n += imageCount(c);
    }
    return n;
  }

  /**
   * Returns a copy of image {@code i} of class {@code c}.
   *
   * @param c class index
   * @param i image index, {@code 0 <= i < imageCount(c)}
   * @return {@code side * side} floats
   * @throws IndexOutOfBoundsException when an index is out of range
   */
  public float[] image(int c, int i) {
    float[] out = new float[side * side];
    copyImage(c, i, 0, out, 0);
    return out;
  }

  /**
   * Copies image {@code i} of class {@code c}, rotated counter-clockwise by
   * {@code quarterTurns * 90} degrees, into {@code dst} at {@code offset}.
   *
   * @param c class index
   * @param i image index
   * @param quarterTurns rotation, taken modulo 4 (see {@link Images#rotate})
   * @param dst destination with room for {@code side * side} floats from {@code offset}
   * @param offset start in {@code dst}
   * @throws IndexOutOfBoundsException when an index is out of range
   */
  public void copyImage(int c, int i, int quarterTurns, float[] dst, int offset) {
    int per = side * side;
    int count = imageCount(c);
    if (i < 0 || i >= count) {
      throw new IndexOutOfBoundsException(
          "image " + i + " of class " + ids.get(c) + " (it has " + count + ")");
    }
    if (offset < 0 || offset + per > dst.length) {
      throw new IndexOutOfBoundsException(
          "copyImage: no room for " + per + " floats at offset " + offset + " in " + dst.length);
    }
    Images.copyRotated(pixels[c], i * per, side, quarterTurns, dst, offset);
  }

  /**
   * Returns the classes named by {@code wanted}, in that order, sharing this set's pixel arrays.
   *
   * @param wanted ids held by this set, without repeats
   * @return the subset
   * @throws IllegalArgumentException when an id is not in this set or repeats
   */
  public ImageClasses select(Collection<CharacterId> wanted) {
    List<CharacterId> ids2 = new ArrayList<>(wanted.size());
    float[][] px = new float[wanted.size()][];
    int k = 0;
    for (CharacterId id : wanted) {
      int c = indexOf(id);
      if (c < 0) {
        throw new IllegalArgumentException("ImageClasses.select: class " + id + " is not loaded");
      }
      ids2.add(id);
      px[k++] = pixels[c];
    }
    return new ImageClasses(side, ids2, px);
  }
}
