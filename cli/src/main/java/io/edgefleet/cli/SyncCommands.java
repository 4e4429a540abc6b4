package io.edgefleet.cli;

import io.edgefleet.engines.ModelInspection;
import io.edgefleet.engines.isolation.IsolatedVerifier;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.profiles.select.Bytes;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.ManifestBuilder;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.chunks.FastCdc;
import io.edgefleet.sync.chunks.Sha256;
import io.edgefleet.sync.server.DirectoryManifests;
import io.edgefleet.sync.server.SyncRoutes;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.sync.signing.ManifestRejectedException;
import io.edgefleet.sync.signing.ManifestSigning;
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Model-sync sub-commands of {@code edgefleet model}: keys, signed manifests, a sync server, delta statistics. */
final class SyncCommands {
    private SyncCommands() {
    }

    /** Parses {@code KEYID=FILE} trust arguments into public keys. */
    static Map<String, PublicKey> trust(List<String> args) throws IOException {
        Map<String, PublicKey> out = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--trust takes KEYID=FILE, got '" + a + "'");
            }
            // each failure names the argument: with several --trust keys, "Is a directory" alone says not which
            String text;
            try {
                text = Files.readString(Path.of(a.substring(eq + 1)));
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IllegalArgumentException("--trust " + a + ": no such file", e);
            } catch (IOException e) {
                throw new IllegalArgumentException("--trust " + a + ": cannot read the public key: " + e.getMessage(), e);
            }
            try {
                out.put(a.substring(0, eq), Keys.publicKey(text));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--trust " + a + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true, description = "Create an Ed25519 signing key: ID.key (private, 0600) and ID.pub.")
    static final class Keygen implements Callable<Integer> {
        @Option(names = "--key-id", required = true, paramLabel = "ID", description = "Key id that manifests name.")
        String keyId;
        @Option(names = "--out", defaultValue = ".", paramLabel = "DIR", description = "Folder for the key files (default: here).")
        Path out;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            io.edgefleet.protocols.Checks.id(keyId, "key-id");
            KeyPair k = Keys.generate();
            Files.createDirectories(out);
            Path priv = out.resolve(keyId + ".key");
            Files.writeString(priv, Keys.encode(k.getPrivate()) + "\n");
            try {
                Files.setPosixFilePermissions(priv, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the operator protects the file
            }
            Path pub = Files.writeString(out.resolve(keyId + ".pub"), Keys.encode(k.getPublic()) + "\n");
            spec.commandLine().getOut().printf("private key %s%npublic key  %s%n", priv, pub);
            return Main.OK;
        }
    }

    @Command(name = "sign",
            description = {"Publish a model version into a sync repository: each FILE becomes a variant (checked in an isolated JVM,",
                "chunked into REPO/chunks), and the manifest, signed with Ed25519, goes to REPO/manifests/MODEL/VERSION.json."})
    static final class Sign implements Callable<Integer> {
        @picocli.CommandLine.Mixin HelpOption help; // not the standard mixin: its --version would clash with ours
        @Parameters(paramLabel = "FILE", arity = "1..*", description = "Variant files (.tflite, .onnx).")
        List<Path> files;
        @Option(names = "--model", required = true) String model;
        @Option(names = "--version", required = true) String version;
        @Option(names = "--key", required = true, paramLabel = "FILE", description = "Private key (from keygen).") Path key;
        @Option(names = "--key-id", required = true, paramLabel = "ID") String keyId;
        @Option(names = "--repo", required = true, paramLabel = "DIR", description = "Sync repository folder.") Path repo;
        @Option(names = "--target-profile", paramLabel = "ID", description = "Profile ids the variants are for (default: any).")
        List<String> targets = List.of();
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ManifestBuilder b = new ManifestBuilder(new ChunkStore(repo.resolve("chunks")), model, version, keyId);
            for (Path f : files) {
                ModelInspection i = IsolatedVerifier.verify(f, IsolationOptions.defaults());
                Precision p = ManifestBuilder.precisionOf(i.inputs());
                String id = (i.runtime().equals("tflite") ? "tflite" : "onnx") + "-" + p.wire();
                b.variant(id, f, i.runtime(), Optional.of(i.runtimeVersion().replaceAll("^(\\d+\\.\\d+).*", "$1")), p, Optional.empty(),
                        targets, i.inputs(), i.outputs());
            }
            Manifest signed = ManifestSigning.sign(b.build(Instant.now(), Optional.empty()), Keys.privateKey(Files.readString(key)));
            new DirectoryManifests(repo.resolve("manifests")).put(model, version, MessageCodec.json().encode(signed));
            spec.commandLine().getOut().printf("signed %s/%s with key %s: %d variant(s), %d chunks%n", model, version, keyId,
                    signed.variants().size(), signed.variants().stream().mapToInt(v -> v.chunks().size()).sum());
            return Main.OK;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, description = "Check a manifest's signature against trusted keys (exit 1 when refused).")
    static final class Verify implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MANIFEST") Path manifest;
        @Option(names = "--trust", required = true, paramLabel = "KEYID=FILE", description = "A trusted public key; repeat to rotate.")
        List<String> trust;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Manifest m = MessageCodec.json().decode(Files.readAllBytes(manifest), Manifest.class);
            try {
                ManifestSigning.verify(m, SyncCommands.trust(trust), Instant.now());
                spec.commandLine().getOut().printf("%s/%s: signature valid (key %s)%n", m.model(), m.version(), m.keyId());
                return Main.OK;
            } catch (ManifestRejectedException e) {
                spec.commandLine().getOut().printf("%s/%s: refused (%s): %s%n", m.model(), m.version(), e.kind(), e.getMessage());
                return Main.FAILED;
            }
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, description = "Serve a sync repository over HTTP (/sync/v1/...) until Ctrl-C.")
    static final class Serve implements Callable<Integer> {
        @Option(names = "--repo", required = true, paramLabel = "DIR") Path repo;
        @Option(names = "--port", defaultValue = "8081", description = "Port (default ${DEFAULT-VALUE}; 0 picks one).") int port;
        @Option(names = "--host", defaultValue = "127.0.0.1") String host;
        @Option(names = "--max-transfers", defaultValue = "64") int maxTransfers;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            SyncRoutes routes = new SyncRoutes(new DirectoryManifests(repo.resolve("manifests")), new ChunkStore(repo.resolve("chunks")), maxTransfers);
            WebServer server = WebServer.builder()
                .connectionOptions(o -> o.tcpNoDelay(true)) // small responses otherwise wait on Nagle + delayed ACK: 25 ms per chunk measured
                .host(host).port(port).shutdownHook(false).routing(routes::routing).build().start();
            spec.commandLine().getOut().printf("serving %s on http://%s:%d/sync/v1/%n", repo, host, server.port());
            spec.commandLine().getOut().flush();
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.stop();
                stopped.countDown();
            }));
            stopped.await();
            return Main.OK;
        }
    }

    @Command(name = "chunk-stats", mixinStandardHelpOptions = true,
            description = "How many bytes a device that has OLD must fetch to get NEW (content-defined chunks, FastCDC ~64 KiB).")
    static final class ChunkStats implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "OLD") Path oldFile;
        @Parameters(index = "1", paramLabel = "NEW") Path newFile;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Map<String, Integer> olds = chunks(Files.readAllBytes(oldFile));
            Map<String, Integer> news = chunks(Files.readAllBytes(newFile));
            long total = news.values().stream().mapToLong(Integer::longValue).sum();
            long fetch = news.entrySet().stream().filter(e -> !olds.containsKey(e.getKey())).mapToLong(e -> e.getValue()).sum();
            Set<String> shared = new HashSet<>(news.keySet());
            shared.retainAll(olds.keySet());
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "old %s: %d chunks%nnew %s: %d chunks, %d shared with old%n", Bytes.human(Files.size(oldFile)), olds.size(),
                    Bytes.human(total), news.size(), shared.size());
            out.printf(Locale.ROOT, "to fetch: %s of %s (%.1f %%)%n", Bytes.human(fetch), Bytes.human(total), total == 0 ? 0 : 100.0 * fetch / total);
            return Main.OK;
        }

        private static Map<String, Integer> chunks(byte[] data) {
            Map<String, Integer> out = new LinkedHashMap<>();
            int start = 0;
            for (int end : FastCdc.cuts(data)) {
                out.put(Sha256.hex(data, start, end - start), end - start);
                start = end;
            }
            return out;
        }
    }
}
