package io.basalt.service.volume;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

/** A volume manager on a fresh data directory and small engine drive for each test. */
abstract class ManagerTest {
    @TempDir
    Path dataDir;
    ManagerHarness node;
    VolumeManager manager;

    @BeforeEach
    void open() throws IOException {
        node = new ManagerHarness(dataDir);
        manager = node.open();
    }

    @AfterEach
    void close() throws IOException {
        node.close();
    }
}
