package io.edgefleet.agent.commands;

import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.sync.client.SyncClient;
import java.nio.file.Path;
import java.util.function.DoubleConsumer;

/**
 * {@link Deployer} over model sync: the variant for the device profile, chunks shared with
 * versions already on the device reused, the file placed at
 * {@code {data}/models/{model}/{version}.{tflite|onnx}} where activation looks for it. Chunks and
 * partial chunks live in {@code {data}/sync}, so a download killed at any point resumes.
 *
 * <p>The signed manifest must be the one asked for (model and version), and a file already at the
 * target path is kept only when its SHA-256 is the manifest's; otherwise it is downloaded again.
 */
public final class SyncDeployer implements Deployer {
    private final SyncClient client;
    private final DeviceProfile profile;
    private final Path dataDir;
    private final java.util.function.Supplier<java.util.Map<String, String>> notLoadable;
    private final String device;

    public SyncDeployer(SyncClient client, DeviceProfile profile, Path dataDir) {
        this(client, profile, dataDir, java.util.Map::of, profile.id());
    }

    /**
     * @param notLoadable runtime id → why it does not load on this device (the host probe, asked at each deploy):
     *     a variant of such a runtime is never chosen, so a deploy is refused before download rather than failing at activation
     * @param device the device id the refusal names
     */
    public SyncDeployer(SyncClient client, DeviceProfile profile, Path dataDir,
            java.util.function.Supplier<java.util.Map<String, String>> notLoadable, String device) {
        this.client = client;
        this.profile = profile;
        this.dataDir = dataDir;
        this.notLoadable = notLoadable;
        this.device = device;
    }

    @Override
    public Path fetch(String model, String version, DoubleConsumer progress) {
        return client.download(model, version, profile, notLoadable.get(), device, v -> target(model, version, v),
                (done, total, reused, chunks) -> progress.accept(total == 0 ? 1 : (double) done / total)).file();
    }

    private Path target(String model, String version, ManifestVariant v) {
        String ext = v.runtime().equals("tflite") ? "tflite" : "onnx";
        return dataDir.resolve("models").resolve(model).resolve(version + "." + ext);
    }
}
