package io.kvx.scheduler.framework;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;

import java.util.List;
import java.util.Map;

/** Read-only views of objects some plugins need beyond nodes and pods. Defaults: none exist. */
public interface Listers {

  Listers EMPTY = new Listers() {
  };

  default PersistentVolumeClaim pvc(String namespace, String name) {
    return null;
  }

  default PersistentVolume pv(String name) {
    return null;
  }

  /** Every PersistentVolume (for claims still to be bound). */
  default List<PersistentVolume> pvs() {
    return List.of();
  }

  default io.fabric8.kubernetes.api.model.storage.StorageClass storageClass(String name) {
    return null;
  }

  /** A namespace's labels (for affinity terms with a namespaceSelector). */
  default Map<String, String> namespaceLabels(String namespace) {
    return Map.of();
  }

  /** The PodDisruptionBudgets of a namespace. */
  default List<io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget> pdbs(String namespace) {
    return List.of();
  }

  /** Selectors of the Services, ReplicaSets, ReplicationControllers and StatefulSets that select the pod. */
  default List<LabelSelector> spreadSelectors(PodInfo pod) {
    return List.of();
  }
}
