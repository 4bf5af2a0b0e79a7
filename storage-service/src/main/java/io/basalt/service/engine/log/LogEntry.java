package io.basalt.service.engine.log;

/**
 * One change recorded in the log. Replaying the entries of every batch in sequence order, on top of
 * the last checkpoint, rebuilds the maps exactly; the writer applies the same entries at run time.
 */
public sealed interface LogEntry {
    byte WRITE = 1;
    byte UNMAP = 2;
    byte RELOCATE = 3;
    byte CREATE = 4;
    byte CLONE = 5;
    byte RESIZE = 6;
    byte DELETE = 7;
    byte REVERT = 8;
    byte COMPRESSION = 9;

    /**
     * Blocks {@code lba..lba+lengths.length-1} of map {@code volume}, stored one after another in the
     * batch's payload; a length below the block size means LZ4-compressed.
     */
    record Write(int volume, long lba, int[] lengths, int[] crcs) implements LogEntry {
    }

    /** Blocks that now read as zeros (Deallocate, Write Zeroes). */
    record Unmap(int volume, long lba, long count) implements LogEntry {
    }

    /** Garbage collection copied a live block of {@code lineage} from address {@code from} into the payload. */
    record Relocate(int lineage, long lba, long from, int length, int crc) implements LogEntry {
    }

    /** A new empty map, the first of its lineage. */
    record Create(int volume, int blockSize, long sizeBlocks, boolean compressed) implements LogEntry {
    }

    /** A new map sharing every block of {@code source}: a snapshot (read-only) or a clone. */
    record Clone(int volume, int source, long sizeBlocks, boolean compressed, boolean readOnly) implements LogEntry {
    }

    record Resize(int volume, long sizeBlocks) implements LogEntry {
    }

    record Delete(int volume) implements LogEntry {
    }

    /** Map {@code volume} takes the content of map {@code snapshot}. */
    record Revert(int volume, int snapshot) implements LogEntry {
    }

    /**
     * Whether blocks written to map {@code volume} from now on are compressed; blocks already stored
     * keep their form (each block's stored length says which it is).
     */
    record Compression(int volume, boolean compressed) implements LogEntry {
    }
}
