/**
 * Model sync (issue "Model sync"): content-addressed chunk store, content-defined chunking,
 * Ed25519-signed manifests, resumable verified range downloads and crash-safe staging.
 *
 * <p>Nothing is implemented here yet; the module exists so the reactor, the dependency
 * direction ({@code protocols <- device-profiles <- model-sync <- edge-agent, cloud-control-plane})
 * and the launcher's class path are in place. See {@code docs/architecture.md}.
 */
package io.edgefleet.sync;
