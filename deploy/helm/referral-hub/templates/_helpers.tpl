{{/* Chart name. */}}
{{- define "referral-hub.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name, used for every object of the release. */}}
{{- define "referral-hub.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the hub's pods. */}}
{{- define "referral-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "referral-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "referral-hub.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "referral-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Name of the CloudNativePG Cluster. */}}
{{- define "referral-hub.cnpgCluster" -}}
{{- printf "%s-db" (include "referral-hub.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Secret and key holding the database URL: the operator's <cluster>-app Secret, or the external one. */}}
{{- define "referral-hub.databaseSecretName" -}}
{{- if .Values.postgres.cloudnativepg.enabled -}}
{{- printf "%s-app" (include "referral-hub.cnpgCluster" .) -}}
{{- else -}}
{{- required "postgres.externalUrl.secretName is required unless postgres.cloudnativepg.enabled" .Values.postgres.externalUrl.secretName -}}
{{- end -}}
{{- end -}}

{{- define "referral-hub.databaseSecretKey" -}}
{{- if .Values.postgres.cloudnativepg.enabled -}}
uri
{{- else -}}
{{- .Values.postgres.externalUrl.key -}}
{{- end -}}
{{- end -}}

{{/* A probe on the hub's port: the native gRPC health check, or a TCP connect. */}}
{{- define "referral-hub.probeAction" -}}
{{- if eq .Values.probes.type "tcpSocket" -}}
tcpSocket:
  port: 9464
{{- else -}}
grpc:
  port: 9464
{{- end -}}
{{- end -}}
