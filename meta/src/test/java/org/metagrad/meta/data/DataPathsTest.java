package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataPathsTest {

  @Test
  void unsetVariableSaysWhatToSet() {
    assertThatThrownBy(() -> DataPaths.root(null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("METAGRAD_DATA is not set")
        .hasMessageContaining("set METAGRAD_DATA to the folder holding omniglot/");
    assertThatThrownBy(() -> DataPaths.root("  "))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("METAGRAD_DATA is not set");
  }

  @Test
  void missingDirectoryIsRejected(@TempDir Path tmp) {
    Path nowhere = tmp.resolve("nowhere");
    assertThatThrownBy(() -> DataPaths.root(nowhere.toString()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(nowhere.toString())
        .hasMessageContaining("not an existing directory");
  }

  @Test
  void missingSubfolderIsRejected(@TempDir Path tmp) {
    Path root = DataPaths.root(tmp.toString());
    assertThatThrownBy(() -> DataPaths.child(root, "omniglot"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has no omniglot/ folder");
  }

  /** Fails (not skips) when METAGRAD_DATA is unset: the data-backed tests must run in CI. */
  @Test
  void environmentPointsAtTheData() {
    Path root = DataPaths.root();
    assertThat(Files.isDirectory(DataPaths.omniglot().resolve("images_background"))).isTrue();
    assertThat(DataPaths.omniglotOneShot().resolve("run01")).isDirectory();
    assertThat(root).isAbsolute();
  }
}
