package io.basalt.service.engine.drive;

import io.basalt.service.engine.ec.ErasureCode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The first {@value #SIZE} bytes of every drive: what it is, whose it is and how it is cut into
 * segments. Little-endian, protected by a CRC32C.
 *
 * <pre>
 * 0   magic "BASALTDR"       8
 * 8   format version         u32
 * 12  segment size (bytes)   u32
 * 16  node id                UUID (16)
 * 32  drive id               UUID (16)
 * 48  first segment offset   u64
 * 56  segment count          u32
 * 60  drive index            u32
 * 64  created (epoch ms)     u64
 * 72  CRC32C of bytes 0..71  u32
 * format 4 (erasure-coded):
 * 76  k (data chunks)        u32
 * 80  m (parity chunks)      u32
 * 84  CRC32C of bytes 0..83  u32
 * </pre>
 */
public record Superblock(int formatVersion, int segmentSize, UUID nodeId, UUID driveId, long firstSegmentOffset,
                         int segmentCount, int driveIndex, long createdMillis, ErasureCode erasure) {
    public static final int SIZE = 4096;
    /**
     * 2: sequence reservations after the superblock (see {@link Drive#reserveSequences}). 3: checkpoints
     * in checkpoint segments on the drives instead of a file in the data directory, which format 2 reads
     * once (see {@code LegacyCheckpointFile}; an older Basalt would take those segments for free ones),
     * and the log may hold COMPRESSION entries (a map's compression changed), which older versions cannot read.
     * 4: the node's segments are erasure-coded stripes across its drives ({@code StripedSegments}); a
     * node without erasure coding keeps writing format 3, which older versions still read.
     */
    public static final int CURRENT_FORMAT = 4;
    /** The format of a drive without erasure coding. */
    public static final int PLAIN_FORMAT = 3;
    static final byte[] MAGIC = "BASALTDR".getBytes(StandardCharsets.US_ASCII);
    private static final int CRC_OFFSET = 72;
    private static final int ERASURE_OFFSET = 76;
    private static final int ERASURE_CRC_OFFSET = 84;

    /** The format a drive of this layout is written in. */
    public static int formatFor(ErasureCode erasure) {
        return erasure.enabled() ? CURRENT_FORMAT : PLAIN_FORMAT;
    }

    /**
     * This superblock at its layout's format; what changed since an older one needs no conversion (an
     * older drive is never erasure-coded: a node keeps the layout its drives were formatted with).
     */
    public Superblock upgraded() {
        return new Superblock(formatFor(erasure), segmentSize, nodeId, driveId, firstSegmentOffset, segmentCount,
                driveIndex, createdMillis, erasure);
    }

    public ByteBuffer encode() {
        ByteBuffer buffer = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(MAGIC).putInt(formatVersion).putInt(segmentSize)
                .putLong(nodeId.getMostSignificantBits()).putLong(nodeId.getLeastSignificantBits())
                .putLong(driveId.getMostSignificantBits()).putLong(driveId.getLeastSignificantBits())
                .putLong(firstSegmentOffset).putInt(segmentCount).putInt(driveIndex).putLong(createdMillis);
        buffer.putInt(CRC_OFFSET, crc(buffer, CRC_OFFSET));
        if (formatVersion >= 4) {
            buffer.putInt(ERASURE_OFFSET, erasure.k()).putInt(ERASURE_OFFSET + 4, erasure.m());
            buffer.putInt(ERASURE_CRC_OFFSET, crc(buffer, ERASURE_CRC_OFFSET));
        }
        return buffer.clear();
    }

    /** True if the bytes start with the magic, i.e. someone formatted this drive for Basalt. */
    static boolean hasMagic(ByteBuffer bytes) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes.get(i) != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    static Superblock decode(ByteBuffer raw, String drive) throws DriveFormatException {
        ByteBuffer buffer = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (!hasMagic(buffer)) {
            throw new DriveFormatException(drive + " is not a Basalt drive");
        }
        int version = buffer.getInt(8);
        if (version > CURRENT_FORMAT) {
            throw new DriveFormatException(drive + " has drive format " + version
                    + ", newer than the " + CURRENT_FORMAT + " this Basalt understands; upgrade Basalt");
        }
        if (buffer.getInt(CRC_OFFSET) != crc(buffer, CRC_OFFSET)
                || version >= 4 && buffer.getInt(ERASURE_CRC_OFFSET) != crc(buffer, ERASURE_CRC_OFFSET)) {
            throw new DriveFormatException(drive + ": superblock checksum mismatch (damaged superblock)");
        }
        ErasureCode erasure;
        try {
            erasure = version >= 4 ? new ErasureCode(buffer.getInt(ERASURE_OFFSET), buffer.getInt(ERASURE_OFFSET + 4))
                    : ErasureCode.NONE;
        } catch (IllegalArgumentException e) {
            throw new DriveFormatException(drive + ": superblock names an unknown erasure code: " + e.getMessage());
        }
        buffer.position(12);
        int segmentSize = buffer.getInt();
        UUID node = new UUID(buffer.getLong(), buffer.getLong());
        UUID id = new UUID(buffer.getLong(), buffer.getLong());
        return new Superblock(version, segmentSize, node, id, buffer.getLong(), buffer.getInt(), buffer.getInt(),
                buffer.getLong(), erasure);
    }

    private static int crc(ByteBuffer buffer, int end) {
        CRC32C crc = new CRC32C();
        crc.update(buffer.duplicate().position(0).limit(end));
        return (int) crc.getValue();
    }
}
