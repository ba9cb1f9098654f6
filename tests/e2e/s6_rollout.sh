#!/bin/bash
# Scenario 6: the rollout recipes of pam_totp(8) and the README, each as
# exact pam.d lines, through pamtester, each with its negative case.
#   1. codes for one group only: pam_succeed_if skips pam_totp for users
#      not in the group; a member without a generator is refused, a
#      member with one is asked and gets in with the code, and someone
#      outside the group is never asked.
#   2. no code from a trusted network: pam_access with its own access
#      file skips pam_totp for PAM_RHOST in 192.0.2.0/24; a host outside
#      it is asked, and refused without the right code.
#   3. users without a generator get in during the rollout (nullok); an
#      enrolled user still needs the code.
# pam_permit stands in for the password step the real stacks have first.
# ok and not_ok always succeed, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need pamtester oathtool useradd groupadd groupdel usermod su

GRP=totpreq$$
M=pame2e6m_$$ # a member of the group, enrolled
N=pame2e6n_$$ # a member of the group, with no generator
O=pame2e6o_$$ # outside the group, with no generator
Q=pame2e6q_$$ # enrolled, for the network recipe (one fresh code a user: no sleeping)
ACCESS=/etc/security/pam_totp_e2e_access_$$.conf
install_conf
groupadd "$GRP" || bail "groupadd $GRP"
at_exit "groupdel '$GRP' 2>/dev/null"
for u in "$M" "$N" "$O" "$Q"; do make_user "$u"; done
usermod -a -G "$GRP" "$M" && usermod -a -G "$GRP" "$N" || bail "usermod -G $GRP"

# asked SVC USER ANSWER [RHOST]: pamtester's login, 0 when it passed;
# ASKED says whether pam_totp prompted for a code.
asked() {
	local rc=0
	printf '%s\n' "$3" | pamtester -v ${4:+-I "rhost=$4"} "$1" "$2" authenticate \
		>"$T/pamtester.out" 2>&1 || rc=$?
	grep -q 'Verification code' "$T/pamtester.out" && ASKED=yes || ASKED=no
	return $rc
}

# ready USER: registers and verifies USER's generator; its secret in $S.
# The verify uses this step's code, so the next step's is a fresh login.
ready() {
	enroll "$1" -- --json
	S=$(jget 'j["secret"]')
	enroll "$1" -- verify "$(code "$S" 0)"
	expect_eq "$RC" 0 "$1 registers and verifies"
}
settle
ready "$Q"
SQ=$S
ready "$M"

# ---- 1. one group ----------------------------------------------------------
SVC=pam_totp_e2e_s6g_$$
pam_service "$SVC" "auth [success=1 default=ignore] pam_succeed_if.so quiet user notingroup $GRP
auth required pam_totp.so
auth required pam_permit.so
account required pam_permit.so"
asked "$SVC" "$O" "" && ok "group recipe: a user outside the group gets in" ||
	not_ok "group recipe: the outsider was refused: $(cat "$T/pamtester.out")"
expect_eq "$ASKED" no "group recipe: the outsider is not asked for a code"
asked "$SVC" "$N" "123456" && not_ok "group recipe: a member with no generator got in" ||
	ok "group recipe: a member with no generator is refused"
asked "$SVC" "$M" "$(wrong_code "$S")" && not_ok "group recipe: a wrong code got the member in" ||
	ok "group recipe: a wrong code is refused for the member"
asked "$SVC" "$M" "$(code "$S" 1)" && ok "group recipe: the member gets in with a code" ||
	not_ok "group recipe: the member's code was refused: $(cat "$T/pamtester.out")"
expect_eq "$ASKED" yes "group recipe: the member was asked for the code"

# ---- 2. a trusted network ----------------------------------------------------
SVC=pam_totp_e2e_s6a_$$
at_exit "rm -f '$ACCESS'"
printf '%s\n' "# pam_totp e2e: no code from the trusted network" \
	"+ : ALL : 192.0.2.0/24" "- : ALL : ALL" >"$ACCESS"
pam_service "$SVC" "auth [success=1 default=ignore] pam_access.so accessfile=$ACCESS
auth required pam_totp.so
auth required pam_permit.so
account required pam_permit.so"
asked "$SVC" "$Q" "" 192.0.2.10 && ok "network recipe: from 192.0.2.10 no code is needed" ||
	not_ok "network recipe: refused from the trusted network: $(cat "$T/pamtester.out")"
expect_eq "$ASKED" no "network recipe: from the trusted network nobody asks"
asked "$SVC" "$Q" "$(wrong_code "$SQ")" 198.51.100.7 &&
	not_ok "network recipe: a host outside got in with a wrong code" ||
	ok "network recipe: from 198.51.100.7 a wrong code is refused"
expect_eq "$ASKED" yes "network recipe: a host outside the network is asked"
asked "$SVC" "$Q" "$(code "$SQ" 1)" 198.51.100.7 && ok "network recipe: from outside, the right code gets in" ||
	not_ok "network recipe: the right code from outside was refused: $(cat "$T/pamtester.out")"

# ---- 3. nullok during the rollout ------------------------------------------------
SVC=pam_totp_e2e_s6n_$$
pam_service "$SVC" "auth required pam_totp.so nullok
auth required pam_permit.so
account required pam_permit.so"
asked "$SVC" "$O" "" && ok "nullok: a user with no generator gets in" ||
	not_ok "nullok: the user with no generator was refused: $(cat "$T/pamtester.out")"
expect_eq "$ASKED" no "nullok: a user with no generator is not asked"
asked "$SVC" "$M" "$(wrong_code "$S")" && not_ok "nullok: an enrolled user got in with a wrong code" ||
	ok "nullok: an enrolled user with a wrong code is refused"
expect_eq "$ASKED" yes "nullok: the enrolled user is asked"
finish
