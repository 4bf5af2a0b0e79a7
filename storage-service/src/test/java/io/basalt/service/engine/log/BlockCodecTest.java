package io.basalt.service.engine.log;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockCodecTest {

    /** The checksum is the LBA's 8 little-endian bytes, then the block's bytes; the buffer is left as it was. */
    @Test
    void aBlocksChecksumCoversItsLbaAndBytesAndLeavesTheBufferAsItWas() {
        BlockCodec codec = new BlockCodec();
        for (ByteBuffer stored : new ByteBuffer[] {ByteBuffer.allocate(3 * 4096), ByteBuffer.allocateDirect(3 * 4096)}) {
            byte[] bytes = new byte[3 * 4096];
            new SplittableRandom(7).nextBytes(bytes);
            stored.put(bytes).position(100).limit(200);
            CRC32C expected = new CRC32C();
            expected.update(ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 42L));
            expected.update(bytes, 4096, 4096);
            assertEquals((int) expected.getValue(), codec.crc(42, stored, 4096, 4096));
            assertEquals(100, stored.position());
            assertEquals(200, stored.limit());
        }
    }

    /**
     * A checksum allocates nothing (it runs for every block written and read). Shown failing with the
     * view per call it used to make ({@code stored.duplicate()}): about 48 bytes a call.
     */
    @Test
    void aChecksumAllocatesNothing() {
        BlockCodec codec = new BlockCodec();
        ByteBuffer stored = ByteBuffer.allocateDirect(4096);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        int calls = 100_000;
        int sum = 0;
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < calls; i++) {
            sum += codec.crc(i, stored, 0, 4096);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < calls / 10, allocated + " bytes allocated for " + calls + " checksums (" + sum + ")");
    }
}
