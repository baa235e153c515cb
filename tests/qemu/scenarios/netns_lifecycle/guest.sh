# SPDX-License-Identifier: GPL-2.0
# Hooks follow namespaces: one created after insmod is hooked; a destroyed
# one is unhooked; rmmod while namespaces exist leaves no hook behind.
. /scenarios/lib.sh
topo_docker 0
for ns in init c1 c2 ext; do fact "hooks_before_insmod:$ns" "$(hook_count "$ns")"; done
insmod $KO trace=1 trace_ports=8080
before=$(cat /sys/module/dockfw/parameters/hooked_netns)
fact hooked_after_insmod "$before"
add_container late 172.17.0.9
serve late 8080 late
wait_port late 8080
fact hooked_after_late "$(cat /sys/module/dockfw/parameters/hooked_netns)"
mark before-late-traffic
probe c1_to_late c1 connect 172.17.0.9 8080
# A process inside keeps a namespace alive: stop it, then drop the name.
stop_server late 8080
$IP netns del late
# Namespace teardown is asynchronous (cleanup_net runs from a workqueue).
i=0
while [ "$(cat /sys/module/dockfw/parameters/hooked_netns)" != "$before" ] && [ $i -lt 200 ]; do
	i=$((i + 1)); sleep 0.05
done
fact hooked_after_del "$(cat /sys/module/dockfw/parameters/hooked_netns)"
for ns in init c1 c2 ext; do fact "hooks_before_rmmod:$ns" "$(hook_count "$ns")"; done
rmmod dockfw
mark after-rmmod
# What the kernel lists once the module is gone: a hook left behind would
# still be counted here (its function pointer into freed code).
for ns in init c1 c2 ext; do fact "hooks_after_rmmod:$ns" "$(hook_count "$ns")"; done
fact module_gone "$([ -d /sys/module/dockfw ] && echo no || echo yes)"
probe ext_after_rmmod ext connect 10.0.0.1 8081
probe c1_to_c2_after_rmmod c1 connect 172.17.0.3 8080
