package io.basalt.service.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;

/** The JSON of the volume records in etcd; unknown fields are ignored, so newer nodes' records still read. */
final class ClusterJson {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterJson.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ClusterJson() {
    }

    static byte[] encode(Object record) {
        try {
            return JSON.writeValueAsBytes(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("records of plain fields can be written as JSON", e);
        }
    }

    /**
     * {@code record} written over the JSON {@code stored} in etcd: the record's fields replace those of
     * {@code stored}, and the fields it does not know (a newer node's, or another writer's such as the
     * in-sync set) are carried over unchanged.
     */
    static byte[] encodeOver(byte[] stored, Object record) {
        try {
            ObjectNode merged = JSON.readTree(stored) instanceof ObjectNode read ? read : JSON.createObjectNode();
            merged.setAll((ObjectNode) JSON.valueToTree(record));
            return JSON.writeValueAsBytes(merged);
        } catch (IOException e) {
            throw new IllegalStateException("a record that was read as JSON can be read again", e);
        }
    }

    /** The record, or empty (with a warning) when the value is not one Basalt can read. */
    static <T> Optional<T> decode(String volumeId, byte[] json, Class<T> type) {
        try {
            return Optional.of(JSON.readValue(json, type));
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("the {} of volume {} in etcd cannot be read: {}", type.getSimpleName(), volumeId, e.getMessage());
            return Optional.empty();
        }
    }
}
