package io.edgefleet.cloud.registry;

import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.cloud.store.ModelRepository;
import io.edgefleet.engines.ModelInspection;
import io.edgefleet.engines.ModelLoadException;
import io.edgefleet.engines.isolation.IsolatedVerifier;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.RuntimeSupport;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.ManifestBuilder;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.server.ManifestSource;
import io.edgefleet.sync.signing.ManifestSigning;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;

/**
 * The model registry. Registering a version loads every variant file once, in an isolated child
 * JVM ({@link IsolatedVerifier}), with the runtime its target profiles declare, and refuses the
 * whole version when any variant fails, naming each file and the runtime's own message: a
 * version is all-or-nothing, so a rollout never meets a half-registered one. Accepted variants are
 * chunked into the sync store and described in a manifest signed with the registry key; the
 * registry is the sync server's {@link ManifestSource}. Versions are immutable; they can be
 * deprecated (still downloadable, so devices can roll back to them, but no new rollout targets them).
 */
public final class ModelRegistry implements ManifestSource {
    private static final System.Logger LOG = System.getLogger(ModelRegistry.class.getName());

    private final ModelRepository repo;
    private final EventRepository events;
    private final ChunkStore chunks;
    private final SigningKey key;
    private final DeviceCatalog catalog;
    private final IsolationOptions isolation;
    private final Clock clock;
    private final Semaphore validations;

    public ModelRegistry(ModelRepository repo, EventRepository events, ChunkStore chunks, SigningKey key, DeviceCatalog catalog,
            IsolationOptions isolation, int concurrentValidations, Clock clock) {
        this.repo = repo;
        this.events = events;
        this.chunks = chunks;
        this.key = key;
        this.catalog = catalog;
        this.isolation = isolation;
        this.clock = clock;
        this.validations = new Semaphore(Math.max(1, concurrentValidations));
    }

    /** An uploaded variant file; {@code precision} overrides what the signature suggests. */
    public record Upload(String fileName, Path file, Optional<Precision> precision) {
        public Upload(String fileName, Path file) {
            this(fileName, file, Optional.empty());
        }
    }

    /**
     * What a registration asks for.
     *
     * @param allowSignatureChange the operator says explicitly that this version's inputs or outputs may differ from the
     *     previous version's (clients must change with it); without it such a version is refused
     */
    public record Registration(String model, String version, List<String> targetProfiles, Metadata metadata, boolean allowSignatureChange) {
        public Registration {
            targetProfiles = targetProfiles == null ? List.of() : List.copyOf(targetProfiles);
            metadata = metadata == null ? Metadata.empty() : metadata;
        }

        /** A registration that keeps the previous version's signature. */
        public Registration(String model, String version, List<String> targetProfiles, Metadata metadata) {
            this(model, version, targetProfiles, metadata, false);
        }
    }

    public SigningKey key() {
        return key;
    }

    public ChunkStore chunks() {
        return chunks;
    }

    /**
     * Validates, chunks, signs and records a version.
     *
     * @throws RegistryException 400 for bad names or no files, 409 when the version exists or when its inputs or
     *     outputs differ from the previous version's and the registration does not allow it (with {@code previousVersion} and
     *     every difference in {@code signatureChanges}), 422 when a profile is unknown or a variant is refused (with every
     *     refusal listed)
     */
    public ModelVersion register(Registration r, List<Upload> files, String actor) {
        try {
            Checks.id(r.model(), "model");
            Checks.id(r.version(), "version");
        } catch (ProtocolException e) {
            throw new RegistryException(400, "Invalid name", e.getMessage());
        }
        if (files.isEmpty()) {
            throw new RegistryException(400, "No variant files", "a version needs at least one variant file (.tflite, .onnx)");
        }
        if (repo.version(r.model(), r.version()).isPresent()) {
            throw conflict(r);
        }
        List<DeviceProfile> targets = new ArrayList<>();
        for (String id : r.targetProfiles()) {
            targets.add(catalog.find(id).orElseThrow(() -> new RegistryException(422, "Unknown device profile",
                    "target profile '" + id + "' is not in the catalog (see GET /api/v1/profiles)")));
        }
        List<RegistryException.Refusal> refused = new ArrayList<>();
        List<Validated> ok = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (Upload u : files) {
            validate(u, targets, refused).ifPresent(v -> {
                String id = v.runtime() + "-" + v.precision().wire();
                for (int i = 2; !ids.add(id); i++) {
                    id = v.runtime() + "-" + v.precision().wire() + "-" + i;
                }
                ok.add(v.withId(id));
            });
        }
        if (!refused.isEmpty()) {
            events.record("model.refused", r.model() + "/" + r.version(), actor,
                    Map.of("refusals", refused.stream().map(x -> x.file() + x.profile().map(p -> " (" + p + ")").orElse("") + ": " + x.reason()).toList()));
            throw new RegistryException(422, "Variant refused", refused.size() == 1 ? refused.get(0).file() + ": " + refused.get(0).reason()
                    : refused.size() + " variant checks failed; see refusals", refused);
        }
        List<String> signatureChanges = checkSignature(r, ok, actor);
        ManifestBuilder b = new ManifestBuilder(chunks, r.model(), r.version(), key.keyId());
        List<VariantInfo> infos = new ArrayList<>();
        for (Validated v : ok) {
            ModelInspection i = v.inspection();
            b.variant(v.id(), v.upload().file(), i.runtime(), Optional.of(majorMinor(i.runtimeVersion())), v.precision(), Optional.empty(),
                    r.targetProfiles(), i.inputs(), i.outputs());
            infos.add(new VariantInfo(v.id(), v.upload().fileName(), i.runtime(), i.runtimeVersion(), v.precision().wire(), i.sizeBytes(),
                    i.sha256(), r.targetProfiles(), i.inputs(), i.outputs(), v.warnings()));
        }
        Manifest signed = ManifestSigning.sign(b.build(clock.instant(), Optional.empty()), key.privateKey());
        ModelVersion mv = new ModelVersion(r.model(), r.version(), ModelVersion.ACTIVE, r.targetProfiles(), r.metadata(), infos,
                clock.instant(), Optional.ofNullable(actor), Optional.empty());
        if (!repo.insert(mv, MessageCodec.json().encode(signed))) {
            throw conflict(r); // a concurrent registration of the same version won
        }
        Map<String, Object> registered = new LinkedHashMap<>();
        registered.put("variants", infos.stream().map(VariantInfo::id).toList());
        registered.put("bytes", infos.stream().mapToLong(VariantInfo::sizeBytes).sum());
        if (!signatureChanges.isEmpty()) {
            registered.put("signatureChanges", signatureChanges); // allowed explicitly; the log says what clients must change
        }
        events.record("model.registered", r.model() + "/" + r.version(), actor, registered);
        LOG.log(System.Logger.Level.INFO, "registered {0}/{1}: {2} variant(s)", r.model(), r.version(), infos.size());
        return mv;
    }

    /**
     * Compares the new version's variants with the previous version's (the one registered last).
     * A variant whose inputs and outputs equal those of some previous variant is unchanged; any other
     * is compared with the previous variant of the same runtime (or the first one) and its
     * differences listed. Refused with 409 unless the registration allows it.
     *
     * @return the differences the registration allowed (empty when there were none)
     */
    private List<String> checkSignature(Registration r, List<Validated> variants, String actor) {
        Optional<ModelVersion> previous = repo.latest(r.model());
        if (previous.isEmpty() || previous.get().variants().isEmpty()) {
            return List.of();
        }
        List<VariantInfo> before = previous.get().variants();
        List<String> changes = new ArrayList<>();
        for (Validated v : variants) {
            ModelInspection i = v.inspection();
            if (before.stream().anyMatch(p -> SignatureDiff.of(p.inputs(), p.outputs(), i.inputs(), i.outputs()).isEmpty())) {
                continue;
            }
            VariantInfo counterpart = before.stream().filter(p -> p.runtime().equals(i.runtime())).findFirst().orElse(before.get(0));
            String prefix = variants.size() == 1 && before.size() == 1 ? ""
                    : "variant " + v.id() + " (against " + previous.get().version() + "'s " + counterpart.id() + "): ";
            SignatureDiff.of(counterpart.inputs(), counterpart.outputs(), i.inputs(), i.outputs()).forEach(c -> changes.add(prefix + c));
        }
        if (changes.isEmpty() || r.allowSignatureChange()) {
            return changes;
        }
        String prev = r.model() + "/" + previous.get().version();
        events.record("model.refused", r.model() + "/" + r.version(), actor, Map.of("previousVersion", previous.get().version(),
                "signatureChanges", changes));
        throw new RegistryException(409, "Signature changed", "the inputs or outputs of " + r.model() + "/" + r.version() + " differ from "
                + prev + "'s (" + String.join("; ", changes) + "): clients written for " + prev + " would be refused. Register with "
                + "allowSignatureChange=true (edgefleet model push --allow-signature-change) if the change is intended.",
                List.of(), ordered("previousVersion", previous.get().version(), "signatureChanges", changes));
    }

    private static Map<String, Object> ordered(String k1, Object v1, String k2, Object v2) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    private static RegistryException conflict(Registration r) {
        return new RegistryException(409, "Version exists",
                r.model() + "/" + r.version() + " is already registered; versions are immutable: register a new version");
    }

    private record Validated(Upload upload, ModelInspection inspection, Precision precision, String id, List<String> warnings) {
        String runtime() {
            return inspection.runtime().equals("onnxruntime") ? "onnx" : inspection.runtime();
        }

        Validated withId(String newId) {
            return new Validated(upload, inspection, precision, newId, warnings);
        }
    }

    private Optional<Validated> validate(Upload u, List<DeviceProfile> targets, List<RegistryException.Refusal> refused) {
        ModelInspection i;
        try {
            validations.acquireUninterruptibly();
            try {
                i = IsolatedVerifier.verify(u.file(), isolation);
            } finally {
                validations.release();
            }
        } catch (ModelLoadException e) {
            refused.add(new RegistryException.Refusal(u.fileName(), Optional.empty(), runtimeMessage(e, u)));
            return Optional.empty();
        }
        Precision p = u.precision().orElse(ManifestBuilder.precisionOf(i.inputs()));
        List<String> warnings = new ArrayList<>();
        boolean fits = true;
        for (DeviceProfile d : targets) {
            Optional<RuntimeSupport> rt = d.runtimes().stream().filter(x -> x.name().equals(i.runtime())).findFirst();
            String why = null;
            if (rt.isEmpty()) {
                why = "profile " + d.id() + " has no " + i.runtime() + " runtime (it has " + d.runtimes() + ")";
            } else if (!d.precisions().contains(p)) {
                why = "profile " + d.id() + " does not compute in " + p.wire() + " (it supports " + d.precisions().stream().map(Precision::wire).toList() + ")";
            } else if (i.sizeBytes() > d.maxModelBytes()) {
                why = "the file is " + i.sizeBytes() + " bytes, over profile " + d.id() + "'s limit of " + d.maxModelBytes();
            } else if (!majorMinor(rt.get().version()).equals(majorMinor(i.runtimeVersion()))) {
                warnings.add("validated with " + i.runtime() + " " + i.runtimeVersion() + "; profile " + d.id() + " declares "
                        + rt.get().version() + ", which the registry cannot load to check");
            }
            if (why != null) {
                refused.add(new RegistryException.Refusal(u.fileName(), Optional.of(d.id()), why));
                fits = false;
            }
        }
        return fits ? Optional.of(new Validated(u, i, p, "", warnings)) : Optional.empty();
    }

    /** The runtime's message, without the temporary path the upload had. */
    private static String runtimeMessage(ModelLoadException e, Upload u) {
        String m = e.getMessage();
        String path = u.file().toString();
        return m.replace("model file " + path + ": ", "").replace(path, u.fileName());
    }

    static String majorMinor(String version) {
        String[] parts = version.split("\\.");
        return parts.length >= 2 ? parts[0] + "." + parts[1] : version;
    }

    public Optional<ModelVersion> version(String model, String version) {
        return repo.version(model, version);
    }

    public List<ModelVersion> versions(String model) {
        return repo.versions(model);
    }

    public List<ModelRepository.ModelSummary> models() {
        return repo.models();
    }

    /** Deprecates a version: still downloadable (devices roll back to it), but no new rollout may target it. */
    public ModelVersion deprecate(String model, String version, String actor, String reason) {
        if (!repo.deprecate(model, version, clock.instant(), actor, reason)) {
            throw notFound(model, version);
        }
        events.record("model.deprecated", model + "/" + version, actor, Map.of("reason", reason));
        return repo.version(model, version).orElseThrow();
    }

    public static RegistryException notFound(String model, String version) {
        return new RegistryException(404, "Unknown model version", "no model version " + model + "/" + version + " is registered");
    }

    @Override
    public Optional<byte[]> manifest(String model, String version) {
        return repo.manifest(model, version);
    }

    /** Signed manifests of every registered version, for reports; keyed model/version. */
    public Map<String, Manifest> manifests(String model) {
        Map<String, Manifest> out = new LinkedHashMap<>();
        for (ModelVersion v : repo.versions(model)) {
            repo.manifest(model, v.version()).ifPresent(b -> out.put(v.version(), MessageCodec.json().decode(b, Manifest.class)));
        }
        return out;
    }

    /**
     * On a database other processes share (PostgreSQL replicas): checks that this process signs with
     * the key that signed what the database already holds, the newest manifest of the first model.
     * A replica started without the shared {@code signing.key-dir} would otherwise make a key of its
     * own and sign new versions that no agent trusts. Another key id (a deliberate rotation) is
     * only returned as a warning.
     *
     * @return a warning to log, if any
     * @throws IllegalStateException the stored manifest carries this key id but does not verify with this key
     */
    public Optional<String> checkSigningKeyAgainstStored() {
        for (ModelRepository.ModelSummary m : repo.models()) {
            if (m.versions().isEmpty()) {
                continue;
            }
            Optional<byte[]> bytes = repo.manifest(m.name(), m.versions().get(0));
            if (bytes.isEmpty()) {
                continue;
            }
            Manifest stored = MessageCodec.json().decode(bytes.get(), Manifest.class);
            try {
                io.edgefleet.sync.signing.ManifestSigning.verify(stored, Map.of(key.keyId(), key.publicKey()), clock.instant());
            } catch (io.edgefleet.sync.signing.ManifestRejectedException e) {
                switch (e.kind()) {
                    case BAD_SIGNATURE -> throw new IllegalStateException("this control plane's signing key '" + key.keyId()
                            + "' is not the key that signed the models in the shared database (" + e.getMessage() + "): every replica must "
                            + "sign with the same key; point signing.key-dir at the first replica's key (docs/control-plane.md \"Replicas\")");
                    case UNKNOWN_KEY -> {
                        return Optional.of("the newest manifest in the shared database (" + m.name() + "/" + m.versions().get(0)
                                + ") is signed with key '" + stored.keyId() + "', this control plane signs with '" + key.keyId()
                                + "': agents must trust both (a key rotation), or signing.key-dir is wrong");
                    }
                    default -> {
                        return Optional.empty(); // expired or unsigned: says nothing about the key
                    }
                }
            }
            return Optional.empty();
        }
        return Optional.empty();
    }
}
