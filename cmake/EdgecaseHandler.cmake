# edgecase_add_handler: an unmodified handler (C or C++ sources, static archives) routed through
# the interposition layer (posix/README.md).
#
#   edgecase_add_handler(NAME SOURCES a.c b.c [LIBRARIES libfoo.a|target ...] ENTRY main|function
#                        [PORT port] [LANGUAGE C|CXX] [PRELUDE header] [STATIC_ONLY]
#                        [TEST [PROTOCOL echo|line|hello] [CASES n] [LIVE_CASES n] [ARGS arg ...]])
#
# Makes, from the sources compiled as they are and the archives as they are:
#   NAME          a shared object (NAME.so) the kit loads: edgecase::posix::load_handler(path,
#                 "NAME") finds its entry, edgecase_entry_NAME(argc, argv); `edgecase check
#                 --so NAME.so` runs it. Not with STATIC_ONLY, for archives not compiled
#                 position-independent (Debian's libuv_a.a): a .so cannot hold them;
#   NAME_handler  a static library holding the same code, for a test binary to link: declare
#                 extern "C" int edgecase_entry_NAME(int, char**) and give it to
#                 edgecase::posix::make_handler.
# ENTRY main renames the sources' main to edgecase_main_NAME with -Dmain=... on the command line
# (no edit); any other name is used as it is (a function taking argc and argv, in LANGUAGE: C by
# default when the first source is a .c file, C++ otherwise). PORT is recorded as the targets'
# property EDGECASE_HANDLER_PORT (where the handler listens). PRELUDE is a header force-included
# before every source (-include): what a published fragment leaves out (its #includes, a macro
# it never defines), without editing its text.
#
# TEST (needs PORT) also makes NAME_test, an executable linking NAME_handler and the kit's
# props layer, generated from edgecase_handler_test.cc.in: check_server runs CASES generated
# cases (default 200) of PROTOCOL (default echo) against the handler on the simulation, each
# in a child process, and shrinks a failing one; then LIVE_CASES cases (default 10) run on live
# loopback sockets. It prints the verdict and exits 0 clean, 1 on a finding (the report
# printed, the case file written to its working directory), 2 without a verdict. ARGS are the
# handler's argv[1...] (plain words). Unless BUILD_TESTING is OFF it is also a test, NAME_test
# (add_test: registered when the directory enabled testing).
#
# How: the sources become an object library (C with -fexceptions, so that edgecase::Stop, which
# ends a run, unwinds through C frames), then one relocatable object, `ld -r --wrap=NAME ...`
# over those objects and the archives, for every NAME of posix/wrap.list. Only that object is
# wrapped: the kit's code and the shared libc keep the real calls. Its __wrap_ symbols resolve
# from the one shared libedgecase_posix, which also holds the current session (docs/DESIGN.md).
# Self-contained: it needs only the wrap list beside it or in ../posix, and a target
# edgecase_posix or edgecase::posix (TEST: the test's template beside it, and edgecase_props or
# edgecase::props). find_package(edgecase) includes it.
include_guard(GLOBAL)

set(_EDGECASE_HANDLER_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(_edgecase_wrap_flags out)
  foreach(candidate "${_EDGECASE_HANDLER_CMAKE_DIR}/wrap.list"
                    "${_EDGECASE_HANDLER_CMAKE_DIR}/../posix/wrap.list")
    if(EXISTS "${candidate}")
      set(list_file "${candidate}")
      break()
    endif()
  endforeach()
  if(NOT list_file)
    message(FATAL_ERROR "edgecase_add_handler: posix/wrap.list not found")
  endif()
  file(STRINGS "${list_file}" names REGEX "^[A-Za-z_0-9]+$")
  # The --wrap flags are read here, at configure time: a changed list must configure again, or
  # the handler would be relinked with the old flags (the custom command depends on the file).
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${list_file}")
  set(flags "")
  foreach(n IN LISTS names)
    list(APPEND flags "--wrap=${n}")
  endforeach()
  set(${out} "${flags}" PARENT_SCOPE)
  set(${out}_FILE "${list_file}" PARENT_SCOPE)
endfunction()

function(edgecase_add_handler NAME)
  cmake_parse_arguments(H "TEST;STATIC_ONLY" "ENTRY;PORT;LANGUAGE;PROTOCOL;CASES;LIVE_CASES;PRELUDE"
                        "SOURCES;LIBRARIES;ARGS" ${ARGN})
  if(NOT H_SOURCES OR NOT H_ENTRY)
    message(FATAL_ERROR "edgecase_add_handler(${NAME}): SOURCES and ENTRY are required")
  endif()
  # NAME names C symbols (edgecase_entry_NAME) and the case files' handler.
  if(NOT NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "edgecase_add_handler(${NAME}): NAME must be a C identifier (A-Z a-z "
                        "0-9 _, not starting with a digit): it names the entry "
                        "edgecase_entry_NAME and the handler in case files")
  endif()
  if(TARGET ${NAME} OR TARGET ${NAME}_handler)
    message(FATAL_ERROR "edgecase_add_handler(${NAME}): a target ${NAME} already exists; "
                        "NAME becomes the targets ${NAME} (the .so), ${NAME}_handler and "
                        "${NAME}_test: give the handler another name, e.g. ${NAME}_edgecase")
  endif()
  if(TARGET edgecase::posix)
    set(posix edgecase::posix)
  else()
    set(posix edgecase_posix)
  endif()
  list(GET H_SOURCES 0 first)
  if(NOT H_LANGUAGE)
    if(first MATCHES "\\.c$")
      set(H_LANGUAGE C)
    else()
      set(H_LANGUAGE CXX)
    endif()
  endif()

  # The entry: main renamed on the command line, or the function named.
  set(entry "${H_ENTRY}")
  set(defines "")
  if(H_ENTRY STREQUAL "main")
    set(entry "edgecase_main_${NAME}")
    set(defines "main=${entry}")
  endif()
  set(glue "${CMAKE_CURRENT_BINARY_DIR}/${NAME}_entry")
  set(call "${entry}(argc, argv)")
  if(H_LANGUAGE STREQUAL "C")
    set(glue "${glue}.c")
    set(decl "int ${entry}(int, char**);")
    set(close "")
    set(call "${entry}(argc, argv)")
  elseif(H_ENTRY STREQUAL "main")
    # C++'s main is either int main() or int main(int, char**), and once renamed it is an
    # ordinary function whose mangled name says which: both are declared weak, and the one the
    # sources define is called (the other's address is null).
    set(glue "${glue}.cc")
    set(decl "int ${entry}(int, char**) __attribute__((weak));\nint ${entry}() __attribute__((weak));\nextern \"C\" {")
    set(close "}")
    set(call "static_cast<int (*)(int, char**)>(&${entry}) ? ${entry}(argc, argv) : ${entry}()")
  else()
    set(glue "${glue}.cc")
    set(decl "int ${entry}(int, char**);\nextern \"C\" {")
    set(close "}")
  endif()
  # The entry restores the handler's writable statics (all of its .data and .bss, gathered in
  # section edgecase_state_NAME by the linker script below) to what they were when it was first
  # entered, so that every run starts as a new process's main would: libuv's default loop,
  # pthread_once guards and signal pipe live there. The copy lives in a section of its own.
  set(state "edgecase_state_${NAME}")
  file(CONFIGURE OUTPUT "${glue}" @ONLY CONTENT [=[
/* Generated by edgecase_add_handler: the kit's entry into handler @NAME@. */
#include <stdlib.h>
@decl@
int edgecase_entry_@NAME@(int argc, char** argv);
extern char __start_@state@[], __stop_@state@[];
/* Keeps the section there even if the handler had no statics of its own. */
__attribute__((used)) static char edgecase_state_anchor;
__attribute__((section("edgecase_saved_@NAME@"))) static char* edgecase_saved = 0;
/* Byte by byte, uninstrumented: the section holds AddressSanitizer's redzones between globals,
   which its memcpy would report. */
__attribute__((no_sanitize_address)) static void edgecase_copy(volatile char* to,
                                                              const volatile char* from,
                                                              size_t size) {
  for (size_t i = 0; i < size; ++i) to[i] = from[i];
}
int edgecase_entry_@NAME@(int argc, char** argv) {
  const size_t size = (size_t)(__stop_@state@ - __start_@state@);
  if (edgecase_saved == 0) {
    edgecase_saved = (char*)malloc(size ? size : 1);
    if (edgecase_saved == 0) abort();
    edgecase_copy(edgecase_saved, __start_@state@, size);
  } else {
    edgecase_copy(__start_@state@, edgecase_saved, size);
  }
  return @call@;
}
@close@
]=])
  # .data.DW.ref.* (the personality routine's pointer that .eh_frame reads, in a COMDAT group:
  # clang emits it so) stays where it is: moved into the state section, GNU ld 2.40 asserts and
  # crashes linking a test binary from two C++ handlers. It never changes, so nothing is lost.
  set(state_script "${CMAKE_CURRENT_BINARY_DIR}/${NAME}_state.ld")
  file(CONFIGURE OUTPUT "${state_script}" @ONLY CONTENT [=[
/* Generated by edgecase_add_handler: handler @NAME@'s writable statics in one section, whose
   bounds (__start_/__stop_@state@) its entry restores before every run. */
SECTIONS {
  @state@ : { *(.data .data.[!D]* .data.D[!W]* .bss .bss.* COMMON) }
}
]=])

  add_library(${NAME}_objects OBJECT ${H_SOURCES})
  set_target_properties(${NAME}_objects PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_definitions(${NAME}_objects PRIVATE ${defines})
  target_compile_options(${NAME}_objects PRIVATE $<$<COMPILE_LANGUAGE:C>:-fexceptions>)
  if(H_PRELUDE)
    get_filename_component(prelude "${H_PRELUDE}" ABSOLUTE)
    target_compile_options(${NAME}_objects PRIVATE -include "${prelude}")
    set_property(SOURCE ${H_SOURCES} APPEND PROPERTY OBJECT_DEPENDS "${prelude}")
  endif()
  add_library(${NAME}_glue OBJECT "${glue}")
  set_target_properties(${NAME}_glue PROPERTIES POSITION_INDEPENDENT_CODE ON)

  # LIBRARIES: archive paths, or static library targets of this project (built first).
  set(archives "")
  set(archive_deps "")
  foreach(lib IN LISTS H_LIBRARIES)
    if(TARGET ${lib})
      list(APPEND archives "$<TARGET_FILE:${lib}>")
      list(APPEND archive_deps ${lib} "$<TARGET_FILE:${lib}>")
    else()
      list(APPEND archives "${lib}")
      list(APPEND archive_deps "${lib}")
    endif()
  endforeach()

  _edgecase_wrap_flags(wrap)
  set(wrapped "${CMAKE_CURRENT_BINARY_DIR}/${NAME}.wrapped.o")
  # A wrong ENTRY would link (a shared object may leave symbols undefined) and fail only when
  # loaded: the entry must be defined by the sources or archives (C++ main's two weak forms
  # are checked by the linker of whatever calls them).
  set(entry_check "${CMAKE_CURRENT_BINARY_DIR}/${NAME}_check_entry.sh")
  set(checked_entry "${entry}")
  if(H_ENTRY STREQUAL "main" AND NOT H_LANGUAGE STREQUAL "C")
    set(checked_entry "")
  endif()
  set(nm "${CMAKE_NM}")
  if(NOT nm)
    set(nm nm)
  endif()
  file(CONFIGURE OUTPUT "${entry_check}" @ONLY CONTENT [=[
#!/bin/sh
# Generated by edgecase_add_handler(@NAME@): fails when ENTRY @H_ENTRY@ is not defined.
[ -z "@checked_entry@" ] && exit 0
if "@nm@" -u -C "$1" | grep -Eq "^ +U @checked_entry@(\(|$)"; then
  echo "edgecase_add_handler(@NAME@): ENTRY @H_ENTRY@: no function @checked_entry@ in SOURCES or LIBRARIES" >&2
  rm -f "$1"
  exit 1
fi
]=])
  add_custom_command(
    OUTPUT "${wrapped}"
    COMMAND ${CMAKE_LINKER} -r -d -T "${state_script}" ${wrap} -o "${wrapped}"
            $<TARGET_OBJECTS:${NAME}_objects>
            $<TARGET_OBJECTS:${NAME}_glue> ${archives}
    COMMAND sh "${entry_check}" "${wrapped}"
    DEPENDS ${NAME}_objects ${NAME}_glue $<TARGET_OBJECTS:${NAME}_objects>
            $<TARGET_OBJECTS:${NAME}_glue> ${archive_deps} "${wrap_FILE}" "${state_script}"
            "${entry_check}"
    COMMAND_EXPAND_LISTS
    COMMENT "Linking handler ${NAME} with --wrap for the calls of posix/wrap.list")
  set_source_files_properties("${wrapped}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)

  # STATIC_ONLY: no shared object, for archives not built position-independent (Debian's
  # libuv_a.a: its PC32 relocations against libc's data cannot go into a .so).
  set(targets ${NAME}_handler)
  if(NOT H_STATIC_ONLY)
    add_library(${NAME} MODULE "${wrapped}")
    set_target_properties(${NAME} PROPERTIES PREFIX "")
    list(APPEND targets ${NAME})
  endif()
  add_library(${NAME}_handler STATIC "${wrapped}")
  foreach(t ${targets})
    set_target_properties(${t} PROPERTIES LINKER_LANGUAGE CXX EDGECASE_HANDLER_ENTRY
                          "edgecase_entry_${NAME}")
    if(H_PORT)
      set_target_properties(${t} PROPERTIES EDGECASE_HANDLER_PORT "${H_PORT}")
    endif()
    target_link_libraries(${t} PUBLIC ${posix})
  endforeach()
  if(H_TEST)
    _edgecase_handler_test(${NAME})
  endif()
endfunction()

# NAME_test (edgecase_add_handler's TEST): the H_* variables are the caller's arguments.
macro(_edgecase_handler_test NAME)
  if(NOT H_PORT)
    message(FATAL_ERROR "edgecase_add_handler(${NAME} TEST): PORT is required (where it listens)")
  endif()
  foreach(default "PROTOCOL;echo" "CASES;200" "LIVE_CASES;10")
    list(GET default 0 key)
    if(NOT DEFINED H_${key})  # LIVE_CASES 0: none
      list(GET default 1 H_${key})
    endif()
  endforeach()
  if(NOT H_PROTOCOL MATCHES "^(echo|line|hello)$")
    message(FATAL_ERROR "edgecase_add_handler(${NAME} TEST): PROTOCOL is echo, line or hello")
  endif()
  set(H_NAME ${NAME})
  set(H_ARGS_CXX "")
  foreach(arg IN LISTS H_ARGS)
    string(APPEND H_ARGS_CXX "\"${arg}\", ")
  endforeach()
  configure_file("${_EDGECASE_HANDLER_CMAKE_DIR}/edgecase_handler_test.cc.in"
                 "${CMAKE_CURRENT_BINARY_DIR}/${NAME}_test.cc" @ONLY)
  if(TARGET edgecase::props)
    set(props edgecase::props)
  else()
    set(props edgecase_props)
  endif()
  add_executable(${NAME}_test "${CMAKE_CURRENT_BINARY_DIR}/${NAME}_test.cc")
  target_link_libraries(${NAME}_test PRIVATE ${NAME}_handler ${props})
  if(NOT DEFINED BUILD_TESTING OR BUILD_TESTING)
    add_test(NAME ${NAME}_test COMMAND ${NAME}_test)
  endif()
endmacro()
