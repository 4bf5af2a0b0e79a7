package io.basalt.service.volume;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.basalt.service.files.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/** The registry file {@code <data>/registry.json}: the subsystem NQN and every volume, replaced atomically. */
final class VolumeRegistry {
    static final String FILE_NAME = "registry.json";
    static final String NQN_PREFIX = "nqn.2026-11.io.basalt:subsystem:";

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();

    private final Path file;

    private VolumeRegistry(Path file) {
        this.file = file;
    }

    static VolumeRegistry in(Path dataDir) {
        return new VolumeRegistry(dataDir.resolve(FILE_NAME));
    }

    /** Reads the registry, creating it with a new subsystem NQN on a node's first start. */
    RegistryContent loadOrCreate() throws IOException {
        if (!Files.exists(file)) {
            RegistryContent fresh = new RegistryContent(RegistryContent.CURRENT_FORMAT,
                    NQN_PREFIX + UUID.randomUUID(), UUID.randomUUID(), List.of(), List.of(), 1, List.of());
            save(fresh);
            return fresh;
        }
        RegistryContent content;
        try {
            JsonNode tree = MAPPER.readTree(file.toFile());
            int format = tree.path("format").asInt(-1);
            if (format != RegistryContent.CURRENT_FORMAT) {
                throw new IOException("registry " + file + " has format " + format
                        + ", this release reads format " + RegistryContent.CURRENT_FORMAT
                        + (format == 1 ? " (format 1 kept volumes in image files under volumes/; copy their data"
                        + " onto new volumes through a host)" : ""));
            }
            content = MAPPER.treeToValue(tree, RegistryContent.class);
        } catch (JacksonException e) {
            throw new IOException("registry " + file + " is unreadable (" + e.getOriginalMessage()
                    + "); restore it from a backup rather than delete it: it names every volume's engine map", e);
        }
        return content;
    }

    void save(RegistryContent content) throws IOException {
        AtomicFiles.write(file, MAPPER.writeValueAsBytes(content));
    }

    Path file() {
        return file;
    }
}
