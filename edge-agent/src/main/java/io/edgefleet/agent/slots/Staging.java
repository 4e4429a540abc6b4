package io.edgefleet.agent.slots;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Puts model files into the data folder so that a power cut at any moment leaves either no file
 * or a complete one: write to {@code staging/}, fsync the file, rename it into place (atomic on
 * one file system), fsync the folder. A file already at the target is kept only when it is the
 * source or has the same bytes; otherwise it is replaced.
 */
final class Staging {
    private Staging() {
    }

    static Path place(Path source, Path dataDir, String model, String version, String extension) throws IOException {
        Path staging = Files.createDirectories(dataDir.resolve("staging"));
        Path target = Files.createDirectories(dataDir.resolve("models").resolve(model)).resolve(version + "." + extension);
        if (Files.exists(target) && (Files.isSameFile(source, target) || sameContent(source, target))) {
            return target; // placed already (by a deploy's download, or an earlier install of the same bytes)
        }
        // anything else at the target (a damaged or stale file under this version's name) is replaced, never trusted
        Path tmp = staging.resolve(model + "-" + version + "-" + UUID.randomUUID() + ".part");
        try (InputStream in = Files.newInputStream(source);
                FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
            in.transferTo(out);
            out.flush();
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDir(target.getParent());
        return target;
    }

    private static boolean sameContent(Path a, Path b) throws IOException {
        return Files.size(a) == Files.size(b) && Files.mismatch(a, b) == -1;
    }

    /** Removes half-written files a crash left in {@code staging/}. */
    static void sweep(Path dataDir) throws IOException {
        Path staging = dataDir.resolve("staging");
        if (Files.isDirectory(staging)) {
            try (var files = Files.list(staging)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems refuse to open a folder; the rename is still atomic there.
        }
    }
}
