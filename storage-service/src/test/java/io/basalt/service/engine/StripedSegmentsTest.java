package io.basalt.service.engine;

import io.basalt.service.engine.drive.DriveSet;
import io.basalt.service.engine.drive.MemoryMedia;
import io.basalt.service.engine.ec.ErasureCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Stripe segments read back whole and in pieces, with every drive in turn failed. */
class StripedSegmentsTest {
    private static final int SEGMENT = 2 << 20;

    private final FailingDrives media = new FailingDrives(new MemoryMedia());

    /** Frees the memory drives' memory. */
    @AfterEach
    void freeDrives() {
        media.close();
    }

    @ParameterizedTest
    @CsvSource({"2, 1, 3", "2, 1, 4", "4, 2, 6", "4, 2, 7"})
    void everySegmentReadsBackWithAnyDriveFailed(int k, int m, int driveCount) throws Exception {
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < driveCount; i++) {
            paths.add(Path.of("stripes", "drive" + i));
        }
        UUID node = UUID.randomUUID();
        Random random = new Random(k * 100 + driveCount);
        byte[][] contents;
        try (DriveSet drives = DriveSet.open(media, paths, node, SEGMENT, (1 << 20) + 4L * SEGMENT, false,
                new ErasureCode(k, m))) {
            contents = new byte[drives.segmentCount()][SEGMENT];
            for (int s = 0; s < drives.segmentCount(); s++) {
                random.nextBytes(contents[s]);
                // Written in pieces of whole rows, as the log writer and the checkpoint thread write.
                for (int offset = 0; offset < SEGMENT; ) {
                    int length = Math.min(SEGMENT - offset, 4096 * (1 + random.nextInt(40)));
                    drives.write(s, offset, new ByteBuffer[] {ByteBuffer.wrap(contents[s], offset, length)});
                    offset += length;
                }
            }
            drives.syncAll();
        }
        for (int failed = 0; failed < driveCount; failed++) {
            FailingDrives one = new FailingDrives(media);
            one.fail(paths.get(failed));
            try (DriveSet drives = DriveSet.open(one, paths, node, SEGMENT, 0, false, null)) {
                assertEquals(1, drives.failedDrives().size());
                for (int s = 0; s < drives.segmentCount(); s++) {
                    ByteBuffer whole = ByteBuffer.allocate(SEGMENT);
                    drives.read(s, 0, whole);
                    assertEquals(ByteBuffer.wrap(contents[s]), whole.flip(), "segment " + s + ", drive " + failed + " failed");
                    int offset = random.nextInt(SEGMENT - 5000);
                    ByteBuffer piece = ByteBuffer.allocateDirect(1 + random.nextInt(5000));
                    drives.read(s, offset, piece);
                    assertEquals(ByteBuffer.wrap(contents[s], offset, piece.capacity()), piece.flip(),
                            "segment " + s + " at " + offset);
                }
            }
        }
    }
}
