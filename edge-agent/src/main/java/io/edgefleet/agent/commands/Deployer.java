package io.edgefleet.agent.commands;

import java.nio.file.Path;
import java.util.function.DoubleConsumer;

/**
 * Brings a model version onto the device for a {@code deploy} command: downloads the variant for
 * this device, verifies it, and places it in the data folder. The command handler knows nothing
 * of HTTP or signatures.
 */
public interface Deployer {
    /**
     * Blocking; called on the command thread. A file of this version already in the data folder is
     * re-checked against the signed manifest (SHA-256) and downloaded again when it differs: a
     * file is never trusted because of its name.
     *
     * @param progress receives the fraction done, 0..1, as the download advances
     * @return the verified file, in the data folder
     * @throws io.edgefleet.sync.signing.ManifestRejectedException the manifest is not trusted or is not the one asked for
     * @throws io.edgefleet.sync.client.SyncException the download failed (retriable) or never verifies (final)
     */
    Path fetch(String model, String version, DoubleConsumer progress);
}
