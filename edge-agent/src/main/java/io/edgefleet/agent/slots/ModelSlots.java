package io.edgefleet.agent.slots;

import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.agent.store.SlotRecord;
import io.edgefleet.agent.store.VersionedFile;
import io.edgefleet.engines.EngineException;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.ModelFiles;
import io.edgefleet.engines.ModelInspection;
import io.edgefleet.engines.isolation.IsolatedVerifier;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The agent's models by name, each with an active and a previous version. Installing a version:
 * the file is copied into the data folder crash-safely, loaded for the first time in an isolated
 * JVM (a hostile file cannot take the agent down), loaded for real, self-tested, then swapped in
 * atomically and recorded in the store. Requests take a {@link Lease} on the active version, so
 * in-flight requests finish on the old version while new ones go to the new one.
 *
 * <p>Slot changes are serialised per agent (one at a time); leases are lock-free. Listeners hear
 * each activation (model, version) after it is recorded.
 */
public final class ModelSlots implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ModelSlots.class.getName());

    private final Path dataDir;
    private final AgentStore store;
    private final EngineOptions engineOptions;
    private final IsolationOptions isolation;
    private final SelfTest.Limits selfTest;
    private final Map<String, ModelSlot> slots = new ConcurrentHashMap<>();
    private final List<BiConsumer<String, String>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, String> refused = new ConcurrentHashMap<>();
    /** Models unloaded through the repository API: model → the version that was active. */
    private final Map<String, String> unloaded = new ConcurrentHashMap<>();

    /** Slots whose self-test uses the default limits but for {@code maxLatencyFactor}. */
    public ModelSlots(Path dataDir, AgentStore store, EngineOptions engineOptions, IsolationOptions isolation,
            double maxLatencyFactor) {
        this(dataDir, store, engineOptions, isolation, SelfTest.Limits.defaults().withMaxLatencyFactor(maxLatencyFactor));
    }

    /** @param selfTest limits of the candidate's latency comparison with the active version */
    public ModelSlots(Path dataDir, AgentStore store, EngineOptions engineOptions, IsolationOptions isolation,
            SelfTest.Limits selfTest) {
        this.dataDir = dataDir;
        this.store = store;
        this.engineOptions = engineOptions;
        this.isolation = isolation;
        this.selfTest = selfTest;
    }

    private volatile boolean keepStandby;

    /**
     * After a forward install, keep the version it replaced loaded as a standby until
     * {@link #releaseStandby} (the watchdog times the two on the same inputs during the bake). Off
     * by default: a standby holds a second copy of the model in memory, as the self-test already
     * does for the length of an activation.
     */
    public void keepStandbyAfterInstall(boolean keep) {
        this.keepStandby = keep;
    }

    /** A lease on the standby (the version the active one replaced), if one is kept for {@code model}. */
    public Optional<Lease> standby(String model) {
        ModelSlot s = slots.get(model);
        return s == null ? Optional.empty() : s.standbyLease();
    }

    /** Unloads {@code model}'s standby if it is {@code version} (it closes when its last run ends). */
    public void releaseStandby(String model, String version) {
        ModelSlot s = slots.get(model);
        if (s != null) {
            s.releaseStandby(version);
        }
    }

    /** Called with (model, version) after every activation. */
    public void onActivation(BiConsumer<String, String> listener) {
        listeners.add(listener);
    }

    /**
     * Loads the active version of every model the store knows. Files there were verified when
     * they were installed, so they load in-process; a missing or damaged active file falls back to
     * the previous version. Half-written staging files of a crash are removed.
     */
    public synchronized void restore() {
        try {
            Staging.sweep(dataDir);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot clean the staging folder: {0}", e.getMessage());
        }
        for (SlotRecord r : store.slots()) {
            for (Optional<VersionedFile> candidate : List.of(r.active(), r.previous())) {
                if (candidate.isEmpty()) {
                    continue;
                }
                VersionedFile v = candidate.get();
                try {
                    LoadedModel m = Engines.forFile(v.file()).load(v.file(), r.model(), engineOptions);
                    slot(r.model()).activate(new Loaded(v.version(), m), false);
                    if (candidate == r.previous()) {
                        store.saveSlot(new SlotRecord(r.model(), r.previous(), Optional.empty()));
                        LOG.log(System.Logger.Level.WARNING, "model {0}: active file unusable, restored previous version {1}",
                                r.model(), v.version());
                    }
                    notifyActivation(r.model(), v.version());
                    break;
                } catch (EngineException e) {
                    LOG.log(System.Logger.Level.WARNING, "model {0} version {1} does not load: {2}", r.model(), v.version(), e.getMessage());
                }
            }
        }
    }

    /**
     * Installs {@code source} as {@code version} of {@code model} and activates it; the version
     * active before becomes the previous one. Installing the active version again is a no-op.
     *
     * @throws SlotException when the candidate fails to load or its self-test; nothing changes then
     */
    public synchronized ModelInspection install(String model, String version, Path source) {
        Checks.id(model, "model");
        Checks.id(version, "version");
        Optional<SlotRecord> before = store.slot(model);
        if (before.flatMap(SlotRecord::active).map(VersionedFile::version).filter(version::equals).isPresent()
                && slot(model).activeVersion().filter(version::equals).isPresent()) {
            return Engines.inspectInProcess(before.get().active().get().file());
        }
        ModelInspection inspection;
        Path placed;
        try {
            inspection = IsolatedVerifier.verify(source, isolation);
            String ext = inspection.runtime().equals("tflite") ? "tflite" : "onnx";
            placed = Staging.place(source, dataDir, model, version, ext);
        } catch (EngineException e) {
            throw new SlotException("model '" + model + "' version " + version + " refused: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new SlotException("model '" + model + "' version " + version + ": cannot stage the file: " + e.getMessage(), e);
        }
        activateFile(model, version, placed, before.flatMap(SlotRecord::active), true);
        return inspection;
    }

    /**
     * Serves every {@code NAME.onnx} / {@code NAME.tflite} of a folder as model {@code NAME};
     * the version is the first 12 hex digits of the file's SHA-256, so a changed file is a new
     * version and an unchanged one is not reloaded. A file that does not load (or fails its
     * self-test) is skipped and remembered with its reason ({@link #refusals()}): the other
     * models are served, and the refused one answers "not ready" with that reason until a
     * version of it is activated. With {@code strict} the first refusal is thrown instead.
     *
     * @return the models served from the folder, with their versions
     * @throws SlotException when the folder cannot be read, or in strict mode when a file is refused
     */
    public Map<String, String> serveDirectory(Path modelsDir, boolean strict) {
        Map<String, String> found = new TreeMap<>();
        try (var files = Files.list(modelsDir)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                int dot = n.lastIndexOf('.');
                if (dot <= 0 || !(n.endsWith(".onnx") || n.endsWith(".tflite"))) {
                    continue;
                }
                String model = n.substring(0, dot);
                if (!Checks.ID.matcher(model).matches()) {
                    LOG.log(System.Logger.Level.WARNING, "skipping {0}: the model name is not a valid id ({1})", f, Checks.ID_RULE);
                    continue;
                }
                try {
                    String version = ModelFiles.sha256(f).substring(0, 12);
                    install(model, version, f);
                    found.put(model, version);
                } catch (SlotException | java.io.UncheckedIOException e) {
                    if (strict) {
                        throw e instanceof SlotException se ? se : new SlotException("model '" + model + "': " + e.getMessage(), e);
                    }
                    refused.put(model, refusal(f, e));
                    LOG.log(System.Logger.Level.WARNING, "model {0} not served: {1}", model, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new SlotException("cannot read models folder " + modelsDir + ": " + e.getMessage(), e);
        }
        return found;
    }

    /** "FILE did not load: WHY", with the runtime's reason and the file named without its folder (no host paths reach clients). */
    private static String refusal(Path file, RuntimeException e) {
        String why = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : Optional.ofNullable(e.getMessage()).orElse("refused without a reason");
        String name = file.getFileName().toString();
        why = why.replace(file.toAbsolutePath().toString(), name).replace(file.toString(), name);
        return name + " did not load: " + why;
    }

    /**
     * Why models of the models folder are not served: model name → the file and the reason its
     * load was refused. A model leaves this map when a version of it is activated.
     */
    public Map<String, String> refusals() {
        return new TreeMap<>(refused);
    }

    /** Model names that have no active version because their file was refused: {@link #refusals()} without the served ones. */
    public Map<String, String> notReady() {
        Map<String, String> out = new TreeMap<>(refused);
        out.keySet().removeAll(activeVersions().keySet());
        return out;
    }

    /**
     * Makes the previous version active again; the version that was active becomes previous. The
     * previous version is self-tested for correctness but never refused for speed: it served before.
     *
     * @throws SlotException when there is no previous version or it does not load
     */
    public synchronized String rollback(String model) {
        SlotRecord r = store.slot(model).orElseThrow(() -> new ModelNotServedException("model '" + model + "' is not served here"));
        VersionedFile prev = r.previous().orElseThrow(() -> new SlotException("model '" + model + "' has no previous version to roll back to", null));
        activateFile(model, prev.version(), prev.file(), r.active(), false);
        return prev.version();
    }

    private void activateFile(String model, String version, Path file, Optional<VersionedFile> nowActive, boolean compareLatency) {
        LoadedModel m;
        try {
            m = Engines.forFile(file).load(file, model, engineOptions);
        } catch (EngineException e) {
            throw new SlotException("model '" + model + "' version " + version + " does not load: " + e.getMessage(), e);
        }
        Optional<String> failure;
        try (Lease current = slot(model).lease().orElse(null)) {
            failure = SelfTest.check(m, Optional.ofNullable(current).filter(l -> compareLatency).map(Lease::model), selfTest);
        }
        if (failure.isPresent()) {
            m.close();
            throw new SlotException("model '" + model + "' version " + version + " failed its " + failure.get(), null);
        }
        store.saveSlot(new SlotRecord(model, Optional.of(new VersionedFile(version, file)),
                nowActive.filter(v -> !v.version().equals(version))));
        // forward installs only: after a rollback there is nothing left to compare with
        slot(model).activate(new Loaded(version, m), keepStandby && compareLatency && nowActive.isPresent());
        refused.remove(model);
        unloaded.remove(model);
        if (slot(model).shadowVersion().filter(version::equals).isPresent()) {
            slot(model).dropShadow(); // the candidate now answers: its shadow copy is of no more use
            store.deleteCandidate(model, CandidateRole.SHADOW.wire());
        }
        LOG.log(System.Logger.Level.INFO, "model {0}: version {1} active", model, version);
        notifyActivation(model, version);
    }

    // ---- shadow candidates (docs/shadow.md) ----------------------------------------------------

    /**
     * Loads {@code version} of {@code model} from {@code file} (already in the data folder, verified against its signed
     * manifest by the deployer) as the model's <em>shadow</em>: first in an isolated JVM (a hostile file cannot take the
     * agent down), then for real, next to the active version. It never answers a request; the shadow runner runs it off
     * the answer path. A shadow loaded before is replaced. The caller records it ({@link #keepCandidate}) so that a
     * restarted agent loads it again ({@link #restoreCandidate}).
     *
     * @throws ModelNotServedException the model has no active version to compare the candidate with
     * @throws SlotException the candidate is the active version, or does not load
     */
    public synchronized void loadShadow(String model, String version, Path file, Optional<String> rolloutId) {
        if (loadCandidate(model, version, file, CandidateRole.SHADOW)) {
            rolloutId.ifPresentOrElse(r -> shadowRollouts.put(model, r), () -> shadowRollouts.remove(model));
        }
    }

    /**
     * The shared steps of a candidate's load next to the active version (a shadow or arm B): the checks, the isolated
     * first load, the real load, the swap into the slot. False when that version is loaded in that role already.
     */
    private boolean loadCandidate(String model, String version, Path file, CandidateRole role) {
        Checks.id(model, "model");
        Checks.id(version, "version");
        ModelSlot s = slots.get(model);
        Optional<String> active = s == null ? Optional.empty() : s.activeVersion();
        if (active.isEmpty()) {
            throw new ModelNotServedException("model '" + model + "' has no active version here to " + role.purpose + " version " + version);
        }
        if (active.get().equals(version)) {
            throw new SlotException("model '" + model + "' version " + version + " is already active; it cannot " + role.be, null);
        }
        if (role.loaded(s).filter(version::equals).isPresent()) {
            return false;
        }
        LoadedModel m;
        try {
            IsolatedVerifier.verify(file, isolation);
            m = Engines.forFile(file).load(file, model, engineOptions);
        } catch (EngineException e) {
            throw new SlotException("model '" + model + "' version " + version + " does not load " + role.as + ": " + e.getMessage(), e);
        }
        role.load(s, new Loaded(version, m));
        LOG.log(System.Logger.Level.INFO, "model {0}: version {1} loaded {2} next to active version {3}", model, version, role.as, active.get());
        return true;
    }

    /** What a candidate loaded next to the active version is: a shadow (docs/shadow.md) or arm B (docs/ab.md). */
    public enum CandidateRole {
        SHADOW("shadow", "in shadow", "run in shadow", "run in shadow next to"),
        ARM_B("arm-b", "as arm B", "be arm B as well", "split requests with");

        private final String wire;
        private final String as;
        private final String be;
        private final String purpose;

        CandidateRole(String wire, String as, String be, String purpose) {
            this.wire = wire;
            this.as = as;
            this.be = be;
            this.purpose = purpose;
        }

        /** The name stored in the agent's store ({@code shadow}, {@code arm-b}). */
        public String wire() {
            return wire;
        }

        /** @throws IllegalArgumentException for a name that is none of {@link #wire()} */
        public static CandidateRole of(String wire) {
            for (CandidateRole r : values()) {
                if (r.wire.equals(wire)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("candidate role must be 'shadow' or 'arm-b', got '" + wire + "'");
        }

        Optional<String> loaded(ModelSlot s) {
            return this == SHADOW ? s.shadowVersion() : s.armBVersion();
        }

        void load(ModelSlot s, Loaded l) {
            if (this == SHADOW) {
                s.shadow(l);
            } else {
                s.armB(l);
            }
        }
    }

    /**
     * Records the candidate loaded as {@code role} of {@code model} in the store (issue 20), with the SHA-256 of its file as
     * verified now and the command that loaded it, so that a restarted agent loads it again ({@link #restoreCandidate}).
     * Called on the command thread after the load; the unloads ({@link #dropShadow}, {@link #dropArmB}, an activation of
     * the shadow's version) forget it.
     */
    public void keepCandidate(String model, CandidateRole role, String version, Path file, String commandId) {
        store.saveCandidate(new io.edgefleet.agent.store.CandidateRecord(model, role.wire(), version, file, ModelFiles.sha256(file), commandId));
    }

    /** The candidates the store records (a restarted agent loads them again), by model and role. */
    public List<io.edgefleet.agent.store.CandidateRecord> keptCandidates() {
        return store.candidates();
    }

    /**
     * Loads a recorded candidate again after a restart, verified again like an install: its file must still have the
     * SHA-256 recorded when it was verified against its signed manifest, then the isolated first load and the real load
     * as for a new candidate. A candidate that fails is forgotten and never loaded.
     *
     * @param rolloutId a shadow's rollout, from the command that loaded it
     * @throws SlotException naming the model, the version and why: the file is missing or changed, or does not load
     * @throws ModelNotServedException the model has no active version any more
     */
    public synchronized void restoreCandidate(io.edgefleet.agent.store.CandidateRecord r, Optional<String> rolloutId) {
        CandidateRole role = CandidateRole.of(r.role());
        try {
            String why = !Files.isRegularFile(r.file()) ? "its file is gone from the data folder"
                    : ModelFiles.sha256(r.file()).equalsIgnoreCase(r.sha256()) ? null
                    : "its file no longer has the SHA-256 verified against its signed manifest";
            if (why != null) {
                throw new SlotException("model '" + r.model() + "' version " + r.version() + " not loaded " + role.as + " again: " + why, null);
            }
            if (role == CandidateRole.SHADOW) {
                loadShadow(r.model(), r.version(), r.file(), rolloutId);
            } else {
                loadArmB(r.model(), r.version(), r.file());
            }
        } catch (RuntimeException e) {
            store.deleteCandidate(r.model(), r.role());
            throw e;
        }
    }

    private final Map<String, String> shadowRollouts = new ConcurrentHashMap<>();

    /** The rollout whose command loaded {@code model}'s shadow candidate, if a rollout did. */
    public Optional<String> shadowRollout(String model) {
        return Optional.ofNullable(shadowRollouts.get(model));
    }

    /** A lease on {@code model}'s shadow candidate, if one is loaded. Any thread. */
    public Optional<Lease> shadow(String model) {
        ModelSlot s = slots.get(model);
        return s == null ? Optional.empty() : s.shadowLease();
    }

    /** Unloads {@code model}'s shadow candidate, if any; returns its version. */
    public synchronized Optional<String> dropShadow(String model) {
        return dropCandidate(model, CandidateRole.SHADOW);
    }

    /** Unloads {@code model}'s candidate of {@code role}, if any, and forgets its record; returns its version. */
    private Optional<String> dropCandidate(String model, CandidateRole role) {
        ModelSlot s = slots.get(model);
        Optional<String> v = s == null ? Optional.empty() : role == CandidateRole.SHADOW ? s.dropShadow() : s.dropArmB();
        store.deleteCandidate(model, role.wire());
        v.ifPresent(x -> LOG.log(System.Logger.Level.INFO, "model {0}: version {1} {2} unloaded", model, x, role.as));
        return v;
    }

    /** The version loaded in shadow for {@code model}, if any; cheap (called per answered request). */
    public Optional<String> shadowVersion(String model) {
        ModelSlot s = slots.get(model);
        return s == null ? Optional.empty() : s.shadowVersion();
    }

    // ---- arm B of an A/B experiment (docs/ab.md) ---------------------------------------------------

    /**
     * Loads {@code version} of {@code model} from {@code file} (verified by the deployer) as arm B of an A/B experiment,
     * next to the active version (arm A): first in an isolated JVM, then for real. Unlike a shadow it answers the requests
     * the split gives it. The caller records it ({@link #keepCandidate}) so that a restarted agent loads it again. Loading
     * the version already loaded as arm B does nothing.
     *
     * @throws ModelNotServedException the model has no active version (no arm A)
     * @throws SlotException the version is the active one, or does not load
     */
    public synchronized void loadArmB(String model, String version, Path file) {
        loadCandidate(model, version, file, CandidateRole.ARM_B);
    }

    /** A lease on {@code model}'s arm B, if one is loaded. Any thread. */
    public Optional<Lease> armB(String model) {
        ModelSlot s = slots.get(model);
        return s == null ? Optional.empty() : s.armBLease();
    }

    /** The version loaded as {@code model}'s arm B, if any. */
    public Optional<String> armBVersion(String model) {
        ModelSlot s = slots.get(model);
        return s == null ? Optional.empty() : s.armBVersion();
    }

    /** Unloads {@code model}'s arm B, if any; returns its version. */
    public synchronized Optional<String> dropArmB(String model) {
        return dropCandidate(model, CandidateRole.ARM_B);
    }

    /** Model name → version loaded in shadow, for every model with a shadow candidate. */
    public Map<String, String> shadowVersions() {
        Map<String, String> out = new TreeMap<>();
        slots.forEach((name, s) -> s.shadowVersion().ifPresent(v -> out.put(name, v)));
        return out;
    }

    private void notifyActivation(String model, String version) {
        for (BiConsumer<String, String> l : listeners) {
            try {
                l.accept(model, version);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "activation listener failed: {0}", e.toString());
            }
        }
    }

    private ModelSlot slot(String model) {
        return slots.computeIfAbsent(model, ModelSlot::new);
    }

    /**
     * A lease on the active version of {@code model}, or on {@code version} when given and active.
     *
     * @throws ModelNotReadyException when the model's file was refused at startup and no version of it is active
     * @throws ModelNotServedException naming the model (and version) when it is not served
     */
    public Lease lease(String model, Optional<String> version) {
        ModelSlot s = slots.get(model);
        Lease lease = s == null ? null : s.lease().orElse(null);
        if (lease == null && refused.containsKey(model)) {
            throw new ModelNotReadyException(model, refused.get(model));
        }
        if (lease == null && unloaded.containsKey(model)) {
            throw new ModelNotReadyException(model, UNLOADED.replace("{name}", model));
        }
        if (lease == null) {
            throw new ModelNotServedException("model '" + printable(model) + "' is not served here (models: "
                    + String.join(", ", activeVersions().keySet()) + ")");
        }
        if (version.isPresent() && !version.get().equals(lease.version())) {
            String active = lease.version();
            lease.close();
            throw new ModelNotServedException("model '" + model + "' version '" + printable(version.get())
                    + "' is not served here (active version: " + active + ")");
        }
        return lease;
    }

    private static String printable(String s) {
        try {
            return Checks.printable(s);
        } catch (ProtocolException e) {
            return "?";
        }
    }

    /** Why an unloaded model does not answer (the repository index's reason, and the 503's). */
    public static final String UNLOADED = "unloaded through the model repository API (POST /v2/repository/models/{name}/load loads it again)";

    /**
     * A model of the repository index as Triton's repository extension shows it: {@code state}
     * READY (it answers) or UNAVAILABLE, with the {@code reason} when it is not ready.
     *
     * @param version the active version, or the one that was active before an unload; empty when none ever loaded
     */
    public record RepositoryEntry(String name, String version, String state, String reason) {
        public static final String READY = "READY";
        public static final String UNAVAILABLE = "UNAVAILABLE";
    }

    /**
     * Every model this agent knows, by name: those with an active version (READY), those unloaded
     * through the repository API, those whose file was refused, and those whose recorded file did
     * not load at start (UNAVAILABLE, with why).
     */
    public List<RepositoryEntry> index() {
        Map<String, RepositoryEntry> out = new TreeMap<>();
        Map<String, String> active = activeVersions();
        for (SlotRecord r : store.slots()) {
            String recorded = r.active().map(VersionedFile::version).orElse("");
            out.put(r.model(), new RepositoryEntry(r.model(), recorded, RepositoryEntry.UNAVAILABLE, "its recorded file did not load at start"));
        }
        refused.forEach((m, why) -> out.put(m, new RepositoryEntry(m, "", RepositoryEntry.UNAVAILABLE, why)));
        unloaded.forEach((m, v) -> out.put(m, new RepositoryEntry(m, v, RepositoryEntry.UNAVAILABLE, UNLOADED.replace("{name}", m))));
        active.forEach((m, v) -> out.put(m, new RepositoryEntry(m, v, RepositoryEntry.READY, "")));
        return List.copyOf(out.values());
    }

    /**
     * Unloads {@code model}: new requests are answered 503 "not ready" while requests in flight
     * finish on it, then its runtime session closes. The store keeps the version active, so the
     * agent's next start (or {@link #load}) serves it again; a deploy activates its version as usual.
     * Unloading a model that is not loaded does nothing.
     *
     * @return the version that was active, or empty when none was
     * @throws ModelNotServedException when the agent does not know the model
     */
    public synchronized Optional<String> unload(String model) {
        ModelSlot s = slots.get(model);
        Optional<String> version = s == null ? Optional.empty() : s.activeVersion();
        if (version.isEmpty()) {
            if (unloaded.containsKey(model) || refused.containsKey(model) || store.slot(model).isPresent()) {
                return Optional.empty();
            }
            throw new ModelNotServedException("model '" + printable(model) + "' is not in this agent's repository");
        }
        unloaded.put(model, version.get());
        s.close();
        LOG.log(System.Logger.Level.INFO, "model {0}: version {1} unloaded through the repository API", model, version.get());
        return version;
    }

    /**
     * Loads {@code model} again: the version the store records as active, from the data folder
     * (verified when it was installed, so it loads in-process, as at start). Loading a model that
     * is loaded does nothing.
     *
     * @return the version now active
     * @throws ModelNotServedException when the agent has no file of the model (a refused models-folder file included)
     * @throws SlotException when the file does not load
     */
    public synchronized String load(String model) {
        ModelSlot s = slots.get(model);
        Optional<String> active = s == null ? Optional.empty() : s.activeVersion();
        if (active.isPresent()) {
            return active.get();
        }
        VersionedFile v = store.slot(model).flatMap(SlotRecord::active).orElseThrow(() -> new ModelNotServedException("model '"
                + printable(model) + "' has no installed version to load" + (refused.containsKey(model) ? " (" + refused.get(model) + ")" : "")));
        LoadedModel m;
        try {
            m = Engines.forFile(v.file()).load(v.file(), model, engineOptions);
        } catch (EngineException e) {
            throw new SlotException("model '" + model + "' version " + v.version() + " does not load: " + e.getMessage(), e);
        }
        slot(model).activate(new Loaded(v.version(), m), false);
        unloaded.remove(model);
        LOG.log(System.Logger.Level.INFO, "model {0}: version {1} loaded through the repository API", model, v.version());
        return v.version();
    }

    /** Model name → active version, for every model with an active version. */
    public Map<String, String> activeVersions() {
        Map<String, String> out = new TreeMap<>();
        slots.forEach((name, s) -> s.activeVersion().ifPresent(v -> out.put(name, v)));
        return out;
    }

    /** The file of a version already in the data folder (installed or staged by a deploy), if any. */
    public Optional<Path> stagedFile(String model, String version) {
        for (String ext : List.of("onnx", "tflite")) {
            Path f = dataDir.resolve("models").resolve(model).resolve(version + "." + ext);
            if (Files.isRegularFile(f)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    public Optional<SlotRecord> record(String model) {
        return store.slot(model);
    }

    @Override
    public synchronized void close() {
        slots.values().forEach(ModelSlot::close);
        slots.clear();
    }
}
