// The defaults of the capture bundle every backend stages.
#ifndef SAVEOOPS_ARMING_CAPTURE_DEFAULTS_H_
#define SAVEOOPS_ARMING_CAPTURE_DEFAULTS_H_

namespace saveoops {

// The capture kernel's command line before `arm` adds console= (copied from
// the first kernel) and elfcorehdr=. Why each:
//   nokaslr        decompress exactly where the planner reserved init_size
//   nr_cpus=1      one CPU boots fastest and needs least memory
//   reset_devices  drivers reset hardware the dead kernel left mid-flight
//   irqpoll        interrupts routed to the dead kernel's CPU still arrive
//   panic=1        a capture kernel that panics reboots instead of hanging
//   saveoops.action=reboot  after the record is written
inline constexpr char kDefaultCaptureCmdline[] =
    "nokaslr nr_cpus=1 reset_devices irqpoll panic=1 saveoops.action=reboot";

}  // namespace saveoops

#endif  // SAVEOOPS_ARMING_CAPTURE_DEFAULTS_H_
