package io.basalt.service.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ByteSizeTest {
    @Test
    void parsesBinaryUnits() {
        assertEquals(4096, ByteSize.parse("4096"));
        assertEquals(10L << 30, ByteSize.parse("10GiB"));
        assertEquals(64L << 20, ByteSize.parse("64 MiB"));
        assertEquals(2L << 40, ByteSize.parse("2TiB"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("10GB"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("9000000PiB"));
    }

    @Test
    void formatsInTheLargestUnitReached() {
        assertEquals("0B", ByteSize.format(0));
        assertEquals("512B", ByteSize.format(512));
        assertEquals("10GiB", ByteSize.format(10L << 30));
        assertEquals("1.5GiB", ByteSize.format(3L << 29));
        assertEquals("4KiB", ByteSize.format(4096));
        assertEquals(10L << 30, ByteSize.parse(ByteSize.format(10L << 30)));
    }
}
