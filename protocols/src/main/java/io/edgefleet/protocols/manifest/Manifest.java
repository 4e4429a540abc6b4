package io.edgefleet.protocols.manifest;

import io.edgefleet.protocols.Checks;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A model version's artifact manifest. The signature is Ed25519 over the canonical JSON of the
 * manifest without its signature ({@link io.edgefleet.protocols.messages.MessageCodec#canonicalBytes});
 * signing and verification live in model-sync.
 *
 * @param model model name
 * @param version immutable version id
 * @param createdAt when the registry built it
 * @param keyId which signing key; verifiers look it up in their trust store
 * @param expiresAt verifiers refuse the manifest after this instant, when present
 * @param variants at least one; ids unique
 * @param signature base64 Ed25519 signature; absent on an unsigned manifest
 */
public record Manifest(int schemaVersion, String model, String version, Instant createdAt, String keyId,
        Optional<Instant> expiresAt, List<ManifestVariant> variants, Optional<String> signature) {
    public static final int SCHEMA_VERSION = 1;

    public Manifest {
        Checks.schemaVersion(schemaVersion, SCHEMA_VERSION, "manifest");
        Checks.id(model, "model");
        Checks.id(version, "version");
        Checks.required(createdAt, "createdAt");
        Checks.id(keyId, "keyId");
        expiresAt = expiresAt == null ? Optional.empty() : expiresAt;
        variants = Checks.list(variants, "variants");
        Checks.notEmpty(variants, "variants");
        Checks.unique(variants.stream().map(ManifestVariant::id).toList(), "variants", "id");
        signature = signature == null ? Optional.empty() : signature;
    }

    /** The same manifest without a signature: the payload that is signed. */
    public Manifest unsigned() {
        return new Manifest(schemaVersion, model, version, createdAt, keyId, expiresAt, variants, Optional.empty());
    }

    public Manifest withSignature(String base64) {
        return new Manifest(schemaVersion, model, version, createdAt, keyId, expiresAt, variants, Optional.of(base64));
    }

    public Optional<ManifestVariant> variant(String id) {
        return variants.stream().filter(v -> v.id().equals(id)).findFirst();
    }
}
