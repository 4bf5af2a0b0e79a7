package io.basalt.attach;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The attachments of this host, one file each in a state directory. It answers "does anything else
 * on this host still use this volume / subsystem?", which decides whether detach may drop the ACL
 * entry or the kernel connection.
 */
public final class AttachmentStore {
    private static final String SUFFIX = ".attachment";

    private final Path dir;

    public AttachmentStore(Path dir) {
        this.dir = dir;
    }

    /** A file-name-safe name unique to the pair, from which the files of an attachment are named. */
    public String stem(String domain, String volumeId) {
        return encode(volumeId) + "@" + encode(domain);
    }

    /** A file of this store's directory. */
    public Path path(String fileName) {
        return dir.resolve(fileName);
    }

    private Path record(String domain, String volumeId) {
        return path(stem(domain, volumeId) + SUFFIX);
    }

    public void save(Attachment a) throws AttachException {
        Properties p = new Properties();
        p.setProperty("domain", a.domain());
        p.setProperty("volume", a.volumeId());
        p.setProperty("mode", a.mode().name());
        p.setProperty("nqn", a.nqn());
        p.setProperty("bridgePid", Long.toString(a.bridgePid()));
        Path file = record(a.domain(), a.volumeId());
        try {
            Files.createDirectories(dir);
            // written aside and moved so a crash never leaves a half record that detach cannot read
            Path temp = Files.createTempFile(dir, ".", ".tmp");
            try (Writer w = Files.newBufferedWriter(temp)) {
                p.store(w, "basalt attachment");
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new AttachException("cannot record the attachment in " + dir + ": " + e.getMessage(), e);
        }
    }

    public Optional<Attachment> find(String domain, String volumeId) {
        Path file = record(domain, volumeId);
        return Files.exists(file) ? Optional.of(read(file)) : Optional.empty();
    }

    public void delete(Attachment a) throws AttachException {
        try {
            Files.deleteIfExists(record(a.domain(), a.volumeId()));
        } catch (IOException e) {
            throw new AttachException("cannot remove the attachment record from " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Whether the volume is attached to a domain other than that one on this host. */
    public boolean volumeUsedElsewhere(String domain, String volumeId) {
        return others(domain, volumeId).anyMatch(o -> o.volumeId().equals(volumeId));
    }

    /** Whether an attachment other than that of (domain, volume) holds a kernel connection to the subsystem. */
    public boolean kernelSubsystemUsedElsewhere(String domain, String volumeId, String nqn) {
        return others(domain, volumeId).anyMatch(o -> o.mode() == AttachMode.KERNEL && o.nqn().equals(nqn));
    }

    private Stream<Attachment> others(String domain, String volumeId) {
        return all().stream().filter(o -> !(o.domain().equals(domain) && o.volumeId().equals(volumeId)));
    }

    private List<Attachment> all() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Attachment> all = new ArrayList<>();
            files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).forEach(f -> all.add(read(f)));
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Attachment read(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read attachment record " + file, e);
        }
        return new Attachment(p.getProperty("domain"), p.getProperty("volume"), AttachMode.valueOf(p.getProperty("mode")),
                p.getProperty("nqn"), Long.parseLong(p.getProperty("bridgePid")));
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
