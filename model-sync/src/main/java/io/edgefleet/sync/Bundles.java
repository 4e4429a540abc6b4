package io.edgefleet.sync;

import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.select.Selection;
import io.edgefleet.profiles.select.Variant;
import io.edgefleet.profiles.select.VariantSelector;
import io.edgefleet.protocols.ProtocolException;

import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.client.Assembler;
import io.edgefleet.sync.client.SyncException;
import io.edgefleet.sync.signing.ManifestSigning;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Offline bundles: a signed manifest and the chunks of its variants in one ZIP file
 * ({@code manifest.json}, {@code chunks/{sha256}}), for devices that cannot reach the sync server.
 * Installing one verifies the signature against the device's trust store and every chunk's hash,
 * exactly as a download does.
 */
public final class Bundles {
    private Bundles() {
    }

    /** Writes the bundle of a signed manifest whose chunks are in {@code store}. */
    public static void write(Manifest signed, ChunkStore store, Path out) throws IOException {
        Set<String> hashes = new LinkedHashSet<>();
        for (ManifestVariant v : signed.variants()) {
            v.chunks().forEach(c -> hashes.add(c.sha256()));
        }
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(out))) {
            zip.setLevel(0); // model weights do not compress; keep it fast
            zip.putNextEntry(new ZipEntry("manifest.json"));
            zip.write(MessageCodec.json().encode(signed));
            zip.closeEntry();
            for (String h : hashes) {
                zip.putNextEntry(new ZipEntry("chunks/" + h));
                try (InputStream in = Files.newInputStream(store.file(h).orElseThrow(() -> new IOException("chunk " + h + " is not in the store")))) {
                    in.transferTo(zip);
                }
                zip.closeEntry();
            }
        }
    }

    /** What an install placed. */
    public record Installed(Manifest manifest, ManifestVariant variant, Path file) {
    }

    /**
     * Installs the variant that fits {@code profile} from a bundle: verifies the manifest, copies
     * and checks its chunks into {@code store}, assembles the file at {@code targetFor(variant)}.
     *
     * @throws SyncException (final) for a damaged bundle, a chunk that does not verify, a missing manifest or chunk
     * @throws io.edgefleet.sync.signing.ManifestRejectedException when the manifest is not trusted
     */
    public static Installed install(Path bundle, ChunkStore store, Map<String, PublicKey> trust, DeviceProfile profile,
            java.util.function.Function<ManifestVariant, Path> targetFor, Instant now) throws IOException {
        Manifest manifest = null;
        Path staging = Files.createTempDirectory(store.root(), "bundle-");
        try {
            try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(bundle))) {
                ZipEntry e;
                while ((e = zip.getNextEntry()) != null) {
                    if (e.getName().equals("manifest.json")) {
                        try {
                            manifest = MessageCodec.json().decode(zip.readAllBytes(), Manifest.class);
                        } catch (ProtocolException pe) {
                            throw new SyncException("bundle " + bundle + ": malformed manifest: " + pe.getMessage(), false, pe);
                        }
                    } else if (e.getName().startsWith("chunks/") && e.getName().matches("chunks/[0-9a-f]{64}")) {
                        String h = e.getName().substring(7);
                        Path tmp = staging.resolve(h);
                        try (OutputStream out = Files.newOutputStream(tmp)) {
                            zip.transferTo(out);
                        }
                        if (io.edgefleet.sync.chunks.Sha256.hex(Files.readAllBytes(tmp)).equals(h)) {
                            store.adopt(tmp, h);
                        } else {
                            throw new SyncException("bundle " + bundle + ": chunk " + h + " does not verify", false, null);
                        }
                    }
                }
            } catch (java.util.zip.ZipException e) {
                throw new SyncException("bundle " + bundle + " is damaged: " + e.getMessage(), false, e);
            }
            if (manifest == null) {
                throw new SyncException("bundle " + bundle + " holds no manifest.json", false, null);
            }
            ManifestSigning.verify(manifest, trust, now);
            Selection s = VariantSelector.select(profile, manifest.variants().stream().map(Variant::of).toList());
            ManifestVariant v = manifest.variant(s.chosen().orElseThrow(() -> new SyncException("no variant of the bundle fits profile "
                    + profile.id() + ":\n" + s.explain(), false, null)).id()).orElseThrow();
            Path target = targetFor.apply(v);
            List<String> missing = Assembler.assemble(store, v, target);
            if (!missing.isEmpty()) {
                throw new SyncException("bundle " + bundle + " lacks chunks " + missing + " of variant " + v.id(), false, null);
            }
            return new Installed(manifest, v, target);
        } finally {
            try (var w = Files.walk(staging)) {
                w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

}
