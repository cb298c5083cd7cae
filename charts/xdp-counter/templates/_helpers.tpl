{{/*
The chart name, or nameOverride; cut to 63 characters (a label value and a DNS label hold no more).
*/}}
{{- define "xdp-counter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of the release's resources: fullnameOverride, else "<release>-<chart name>", or the release name
alone when it already contains the chart name. Cut to 63 characters, so every derived name below stays
within the limit after its suffix is made room for.
*/}}
{{- define "xdp-counter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
fullname with a suffix, the whole cut to 63 characters: the fullname is shortened, never the suffix, so
"-operator" and "-agent" names stay distinct.
*/}}
{{- define "xdp-counter.suffixed" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- $base := include "xdp-counter.fullname" $root | trunc (int (sub 63 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s%s" $base $suffix }}
{{- end }}

{{/*
chart label value: name-version.
*/}}
{{- define "xdp-counter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource. The chart version is here, but never in selectorLabels or pod labels, so an
upgrade that changes only the chart does not restart pods.
*/}}
{{- define "xdp-counter.labels" -}}
helm.sh/chart: {{ include "xdp-counter.chart" . }}
{{ include "xdp-counter.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The labels a selector matches: stable for the life of a release.
*/}}
{{- define "xdp-counter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "xdp-counter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The operator pod's selector labels. The agents' pods, in the DaemonSet the operator renders, carry
app.kubernetes.io/name=xdp-counter and app.kubernetes.io/component=agent; "operator" keeps them apart.
*/}}
{{- define "xdp-counter.operatorSelectorLabels" -}}
{{ include "xdp-counter.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
The names of the operator's and the agents' service accounts.
*/}}
{{- define "xdp-counter.operatorServiceAccountName" -}}
{{- if .Values.serviceAccount.operator.create }}
{{- default (include "xdp-counter.suffixed" (list . "-operator")) .Values.serviceAccount.operator.name }}
{{- else }}
{{- required "serviceAccount.operator.name is required when serviceAccount.operator.create is false" .Values.serviceAccount.operator.name }}
{{- end }}
{{- end }}

{{- define "xdp-counter.agentServiceAccountName" -}}
{{- if .Values.serviceAccount.agent.create }}
{{- default (include "xdp-counter.suffixed" (list . "-agent")) .Values.serviceAccount.agent.name }}
{{- else }}
{{- required "serviceAccount.agent.name is required when serviceAccount.agent.create is false" .Values.serviceAccount.agent.name }}
{{- end }}
{{- end }}

{{/*
What the operator keeps in the release namespace (docs/adr/0021): the one agent DaemonSet and the agents'
ConfigMap of the XdpCounters' specs. The operator is told both names; the agents' Role names the ConfigMap.
*/}}
{{- define "xdp-counter.agentDaemonSetName" -}}
{{- include "xdp-counter.suffixed" (list . "-agent") }}
{{- end }}

{{- define "xdp-counter.agentSpecsName" -}}
{{- include "xdp-counter.suffixed" (list . "-agent-specs") }}
{{- end }}

{{/*
The image reference: repository@digest when a digest is set, else repository:tag (tag defaults to appVersion).
*/}}
{{- define "xdp-counter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Whether the metrics Services are rendered.
*/}}
{{- define "xdp-counter.metricsServices" -}}
{{- if or .Values.metrics.service.enabled .Values.serviceMonitor.enabled }}true{{ end }}
{{- end }}
