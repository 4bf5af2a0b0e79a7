package io.basalt.service.replication;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The replication fields of a volume's record in etcd ({@code volumes/<id>}), read the same way by
 * every node:
 * <ul>
 * <li>{@code nodeIds}: the nodes holding a copy, in placement order;</li>
 * <li>{@code primary}: the node that serves the volume and forwards writes; absent (records written
 * before failover existed) means the first of {@code nodeIds};</li>
 * <li>{@code inSync}: the nodes whose copies take every write, primary included; absent means all of
 * {@code nodeIds};</li>
 * <li>{@code generation}: bumped by every change of the two above.</li>
 * </ul>
 * Writers of records must carry {@code primary} and {@code inSync} over when they rewrite one.
 */
public final class ReplicaRoles {
    private ReplicaRoles() {
    }

    public static List<String> nodeIds(JsonNode record) {
        return texts(record.get("nodeIds"));
    }

    /** The primary's node id; null for a record that names no node at all. */
    public static String primary(JsonNode record) {
        JsonNode named = record.get("primary");
        if (named != null && named.isTextual()) {
            return named.asText();
        }
        List<String> nodeIds = nodeIds(record);
        return nodeIds.isEmpty() ? null : nodeIds.getFirst();
    }

    public static List<String> inSync(JsonNode record) {
        return texts(record.has("inSync") ? record.get("inSync") : record.get("nodeIds"));
    }

    public static long generation(JsonNode record) {
        return record.path("generation").asLong();
    }

    /** Sets {@code inSync} to those of {@code nodeIds} that are in {@code members}, in {@code nodeIds}' order. */
    static void putInSync(ObjectNode record, Collection<String> members) {
        List<String> nodeIds = nodeIds(record);
        ArrayNode list = record.putArray("inSync");
        nodeIds.stream().filter(members::contains).forEach(list::add);
    }

    private static List<String> texts(JsonNode array) {
        List<String> ids = new ArrayList<>();
        if (array != null && array.isArray()) {
            array.forEach(n -> ids.add(n.asText()));
        }
        return ids;
    }
}
