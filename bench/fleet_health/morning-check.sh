#!/usr/bin/env bash
# Daily CloudOS health check script

echo "CloudOS Daily Health Check - $(date)"
echo "========================================"

# 1. System Status
echo "System Status:"
uptime
df -h | grep -E "(/$|/opt|/var)"

# 2. CloudOS Services
echo -e "\nCloudOS Services:"
systemctl status cloudos-* --no-pager -l

# 3. Container Health
echo -e "\nContainer Status:"
docker ps --format "table {{.Names}}\t{{.Status}}\t{{.Ports}}"

# 4. Cluster Status
echo -e "\nCluster Status:"
kubectl get nodes
kubectl get pods --all-namespaces | grep -E "(Error|CrashLoop|Pending)"

# 5. Monitoring Status
echo -e "\nMonitoring Systems:"
curl -s http://localhost:9090/-/healthy && echo "Prometheus: Healthy" || echo "Prometheus: Down"
curl -s http://localhost:3000/api/health | jq -r '.database' && echo "Grafana: Healthy" || echo "Grafana: Down"
curl -s http://localhost:9093/-/healthy && echo "AlertManager: Healthy" || echo "AlertManager: Down"

# 6. Active Alerts
echo -e "\nActive Alerts:"
curl -s http://localhost:9093/api/v1/alerts | jq -r '.data[] | select(.status.state=="firing") | "- \(.labels.alertname): \(.annotations.summary)"' || echo "No active alerts"

# 7. Resource Usage
echo -e "\nResource Usage:"
echo "CPU: $(top -bn1 | grep "Cpu(s)" | awk '{print $2}' | cut -d'%' -f1)% used"
echo "Memory: $(free | grep Mem | awk '{printf "%.1f%%", $3/$2 * 100.0}')"
echo "Disk: $(df / | grep / | awk '{print $5}')"

# 8. AI Engine Status
echo -e "\nAI Engine Status:"
curl -s http://localhost:8000/health | jq -r '.status' || echo "AI Engine not responding"
curl -s http://localhost:8000/api/v1/models | jq -r '.loaded_models | length' | xargs echo "Loaded models:"

echo -e "\nHealth check complete!"
