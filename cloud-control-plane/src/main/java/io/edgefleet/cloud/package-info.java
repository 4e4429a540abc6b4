/**
 * The cloud control plane (issues "Cloud control plane", "Staged rollouts", "Cloud inference
 * role"): registries, rollout engine, telemetry ingest, fallback inference.
 *
 * <p>Nothing is implemented here yet; see {@code docs/architecture.md}.
 */
package io.edgefleet.cloud;
