package io.basalt.cluster.membership;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.etcd.jetcd.ByteSequence;

import java.io.IOException;

/**
 * The JSON of the values under {@code nodes/} and {@code members/}. Values are read with a size bound
 * and unknown fields are ignored, so a newer node's records do not break an older node's list.
 */
final class MemberRecords {
    /** A description with its 16 portals is a few KiB; anything far larger is not one of ours. */
    static final int MAX_VALUE_BYTES = 64 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private MemberRecords() {
    }

    static ByteSequence encode(Object record) {
        try {
            return ByteSequence.from(JSON.writeValueAsBytes(record));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("records of plain fields can be written as JSON", e);
        }
    }

    static <T> T decode(ByteSequence value, Class<T> type) throws IOException {
        if (value.size() > MAX_VALUE_BYTES) {
            throw new IOException("a value of " + value.size() + " bytes is larger than " + MAX_VALUE_BYTES);
        }
        try {
            return JSON.readValue(value.getBytes(), type);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
