#pragma once
// Every typed message of ktstr-actors, declared once in the headers of this folder (one
// per concern) and listed here in the one CAF type-ID block that registers them
// (actors/runtime_config.cpp). Each message is a plain struct with a free `inspect`, so
// it can be serialized (later issues send them between hosts).
#include <caf/type_id.hpp>

#include "messages/atoms.hpp"
#include "messages/experiment.hpp"
#include "messages/fault.hpp"
#include "messages/freeze.hpp"
#include "messages/guest_io.hpp"
#include "messages/perf.hpp"
#include "messages/run.hpp"
#include "messages/vcpu.hpp"
#include "messages/watchdog.hpp"
#include "messages/watchpoint.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(ktstr, caf::first_custom_type_id)
// guest_io.hpp
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::console_output))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::agent_line))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::kernel_panic))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::console_tail))
// vcpu.hpp
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::guest_stopped))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vcpu_failed))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vcpu_exited))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vcpu_started))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::ping))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::pong))
// freeze.hpp
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vcpu_registers))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::freeze))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::parked))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::thaw))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::freeze_request))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::freeze_deadline))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::snapshot))
// watchpoint.hpp
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::arm_watchpoint))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::watchpoint_hit))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::disarm_watchpoint))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::guest_debug_result))
// perf.hpp
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::counter_value))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::perf_sample))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::perf_counter))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::perf_counter_unavailable))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::perf_vcpu_timeline))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::perf_report))
// watchdog.hpp
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::progress))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::frozen_for))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::stall))
// run.hpp
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::run_finished))
// fault.hpp
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::fault_event))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::fault_step))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::drop_kicks))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::inject_nmi))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::guest_write))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::fault_outcome))
// experiment.hpp
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vm_run_started))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vm_run_ended))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::experiment_finished))
CAF_END_TYPE_ID_BLOCK(ktstr)
