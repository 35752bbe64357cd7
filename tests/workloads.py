"""The sandbox's test workloads as manifests: the integration tests and benchmarks/sandbox.py
apply the same ones, so a figure measures what the tests prove works."""

from __future__ import annotations

PODINFO = "ghcr.io/stefanprodan/podinfo"


def deployment(name: str = "api-server", replicas: int = 3, tag: str = "6.7.0",
               max_surge: int = 1, max_unavailable: int = 0, extra_spec: str = "") -> str:
    """The course's api-server Deployment and Service (podinfo on 8080)."""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: {max_surge}, maxUnavailable: {max_unavailable}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: {name}
        image: {PODINFO}:{tag}
        args: ["--port=8080"]
        ports: [{{name: http, containerPort: 8080}}]
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: 500m, memory: 512Mi}}
{extra_spec}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def cpu_autoscaler(target: str = "api-server", max_replicas: int = 20,
                   utilization: int = 70) -> str:
    """An autoscaling/v2 HPA on cpu utilisation, named TARGET-hpa."""
    return f"""
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: {target}-hpa}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {target}}}
  minReplicas: 2
  maxReplicas: {max_replicas}
  metrics:
  - type: Resource
    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: {utilization}}}}}
"""


def postgres(replicas: int = 1) -> str:
    """postgres as a StatefulSet behind a headless Service, each pod with a 1Gi claim."""
    return f"""
apiVersion: v1
kind: Service
metadata: {{name: postgres}}
spec:
  clusterIP: None
  selector: {{app: postgres}}
  ports: [{{port: 5432}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: postgres}}
spec:
  serviceName: postgres
  replicas: {replicas}
  selector: {{matchLabels: {{app: postgres}}}}
  template:
    metadata: {{labels: {{app: postgres}}}}
    spec:
      containers:
      - name: postgres
        image: postgres:16-alpine
        volumeMounts: [{{name: data, mountPath: /var/lib/postgresql/data}}]
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {{requests: {{storage: 1Gi}}}}
"""
